import { readConfig, env } from '@cloud-stack/service-kit';
import { auditIntegrityConfigShape } from '@cloud-stack/audit-store';

/** The audit-writer's environment; a bad value stops start-up with one line naming the variable. */
export const auditWriterConfigShape = {
  PORT: env.port(8010),
  HOST: env.string('0.0.0.0'),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/audit'),
  DATABASE_POOL_MAX: env.int(6, 2),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: env.string('bull'),
  AUDIT_BATCH_SIZE: env.int(1000, 1),
  AUDIT_FLUSH_MS: env.int(20, 1),
  AUDIT_CONCURRENCY: env.int(64, 1),
  AUDIT_PARALLEL_FLUSHES: env.int(2, 1),
  AUDIT_PARTITIONS_AHEAD: env.int(3, 1),
  AUDIT_LOCK_DURATION_MS: env.int(30_000, 1000),
  AUDIT_MIGRATE_ON_START: env.bool(true),
  ...auditIntegrityConfigShape,
};

export type AuditWriterConfig = ReturnType<typeof readAuditWriterConfig>;

export function readAuditWriterConfig(source: Record<string, string | undefined> = process.env) {
  return readConfig(auditWriterConfigShape, source);
}
