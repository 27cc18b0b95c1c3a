import { z } from 'zod';
import { env, readConfig } from '@cloud-stack/service-kit';
import { parseRetentionPolicy } from '../retention/policy';

/**
 * Environment of the read, seal and retention side (validated at start-up; a bad value is a
 * ConfigError naming the variable).
 */
export const auditIntegrityConfigShape = {
  IDENTITY_URL: env.url('http://127.0.0.1:3333'),
  AUDIT_INTROSPECTION_CLIENT_ID: env.string('audit-writer'),
  /** No default: it is a trusted client's secret at identity (the demo's is set by `npm start` and compose). */
  AUDIT_INTROSPECTION_CLIENT_SECRET: env.string(),
  AUDIT_INTROSPECTION_CACHE_SECONDS: env.int(30),
  /** Redis where identity publishes token revocations (evicting cached answers at once); default REDIS_URL. */
  IDENTITY_REDIS_URL: z.url().optional(),
  /** Identity's REDIS_PREFIX: its revocation channel is `${prefix}identity:revocations`. */
  IDENTITY_REDIS_PREFIX: z.string().default(''),
  PLATFORM_TENANT_ID: env.string('platform'),
  AUDIT_SIGNING_KEY: env.optionalString(),
  AUDIT_SEAL_INTERVAL_SECONDS: env.int(3600, 60),
  AUDIT_SEAL_GRACE_SECONDS: env.int(300),
  AUDIT_SEAL_EVERY_MS: env.int(60_000, 1000),
  AUDIT_RETENTION_EVERY_MS: env.int(3_600_000, 1000),
  AUDIT_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseRetentionPolicy(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
};

export type AuditIntegrityConfig = ReturnType<typeof readAuditIntegrityConfig>;

export function readAuditIntegrityConfig(source: Record<string, string | undefined> = process.env) {
  return readConfig(auditIntegrityConfigShape, source);
}
