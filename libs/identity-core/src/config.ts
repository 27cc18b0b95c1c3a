import { z } from 'zod';
import { AUDIT_QUEUE_PREFIX_DEFAULT, AUDIT_QUEUE_PREFIX_VARIABLE } from '@cloud-stack/contracts';
import { env, readConfig, requireHashTaggedPrefix, requireInProduction, shutdownConfigShape } from '@cloud-stack/service-kit';

/** Every variable identity reads, with its default; see apps/identity/README.md. */
export const identityConfigShape = {
  PORT: env.port(3333),
  HOST: env.string('0.0.0.0'),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/identity'),
  DATABASE_POOL_MAX: env.int(10, 1),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  /** Prefixes every Redis channel and key identity uses (tests give each file its own). */
  REDIS_PREFIX: z.string().default(''),
  ISSUER: env.url('http://localhost:3333').transform((url) => url.replace(/\/+$/, '')),
  AUDIENCE: env.string('cloud-stack'),
  ACCESS_TOKEN_TTL_SECONDS: env.int(900, 1),
  REFRESH_TOKEN_TTL_SECONDS: env.int(14 * 24 * 3600, 1),
  /** Extra time a retired key stays in the JWKS after the last token it signed has expired. */
  KEY_RETIRE_GRACE_SECONDS: env.int(300, 0),
  /**
   * Comma-separated secrets (32+ characters each) that encrypt private signing keys at rest: the
   * first seals, all open (rotate by putting a new one first). Empty: keys are stored unencrypted.
   */
  SIGNING_KEY_SECRETS: env.list([]).refine((list) => list.every((s) => s.length >= 32), 'each secret needs at least 32 characters'),
  /** scrypt cost: N = 2^SCRYPT_LOG_N, block size r, parallelism p (for new hashes; stored hashes carry theirs). */
  SCRYPT_LOG_N: env.int(15, 1),
  SCRYPT_R: env.int(8, 1),
  SCRYPT_P: env.int(1, 1),
  /** How long a successful client authentication is remembered (keyed by a hash of the secret). */
  CLIENT_AUTH_CACHE_TTL_SECONDS: env.int(30, 0),
  /** Verified access tokens remembered per instance (skips the ECDSA check on repeats); 0 disables. */
  VERIFIED_TOKEN_CACHE_SIZE: env.int(10_000, 0),
  /** How often revocations and signing keys are re-read from the database (besides Redis messages). */
  SYNC_INTERVAL_SECONDS: env.int(10, 1),
  /** How often the `identity-token-purge` job scheduler deletes expired refresh tokens and revocation rows; 0: this process runs no purge. */
  TOKEN_PURGE_EVERY_SECONDS: env.int(3600, 0),
  BODY_LIMIT: env.string('100kb'),
  /** Failed password sign-ins that lock a username for the rest of the window; 0 disables the lockout. */
  LOGIN_MAX_FAILURES: env.int(10, 0),
  /** The lockout window, counted from a username's first failed sign-in. */
  LOGIN_FAILURE_WINDOW_SECONDS: env.int(900, 1),
  /** `bullmq`: admin actions become audit events on the `audit` queue (REDIS_URL); `none`: not recorded. */
  AUDIT_EVENTS: env.oneOf(['bullmq', 'none'] as const, 'bullmq'),
  /** BullMQ key prefix of the audit queue; the contract's one name, shared by every producer and the writer. */
  [AUDIT_QUEUE_PREFIX_VARIABLE]: env.string(AUDIT_QUEUE_PREFIX_DEFAULT),
  ...shutdownConfigShape,
};

export type IdentityConfig = { [K in keyof typeof identityConfigShape]: z.output<(typeof identityConfigShape)[K]> };

/**
 * Variables production (NODE_ENV=production) must set: without SIGNING_KEY_SECRETS private keys
 * would be stored unencrypted, and the connection defaults are password-less local servers.
 */
const PRODUCTION_REQUIRED = ['SIGNING_KEY_SECRETS', 'DATABASE_URL', 'REDIS_URL'];

/** Reads identity's configuration; a bad or (in production) missing value throws a ConfigError naming the variable. */
export function readIdentityConfig(source: Record<string, string | undefined> = process.env): IdentityConfig {
  const config = readConfig(identityConfigShape, source);
  requireInProduction(source, PRODUCTION_REQUIRED);
  if (config.AUDIT_EVENTS === 'bullmq') requireHashTaggedPrefix(config.REDIS_URL, AUDIT_QUEUE_PREFIX_VARIABLE, config[AUDIT_QUEUE_PREFIX_VARIABLE]);
  return config;
}
