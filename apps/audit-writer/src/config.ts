import { AUDIT_QUEUE_PREFIX_DEFAULT, AUDIT_QUEUE_PREFIX_VARIABLE, RETIRED_AUDIT_QUEUE_PREFIX_VARIABLE } from '@cloud-stack/contracts';
import { ConfigError, readConfig, env, requireHashTaggedPrefix, requireInProduction, shutdownConfigShape } from '@cloud-stack/service-kit';
import { auditIntegrityConfigShape } from '@cloud-stack/audit-store';

/** The audit-writer's environment; a bad value stops start-up with one line naming the variable. */
export const auditWriterConfigShape = {
  PORT: env.port(8010),
  HOST: env.string('0.0.0.0'),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/audit'),
  DATABASE_POOL_MAX: env.int(6, 2),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  /** BullMQ key prefix of the audit queue; the contract's one name, shared with every producer. */
  [AUDIT_QUEUE_PREFIX_VARIABLE]: env.string(AUDIT_QUEUE_PREFIX_DEFAULT),
  AUDIT_BATCH_SIZE: env.int(1000, 1),
  AUDIT_FLUSH_MS: env.int(20, 1),
  AUDIT_CONCURRENCY: env.int(64, 1),
  AUDIT_PARALLEL_FLUSHES: env.int(2, 1),
  AUDIT_PARTITIONS_AHEAD: env.int(3, 1),
  // A killed writer's jobs are written again within about lock + stalled interval (README, "Recovery").
  AUDIT_LOCK_DURATION_MS: env.int(15_000, 1000),
  AUDIT_STALLED_INTERVAL_MS: env.int(10_000, 500),
  AUDIT_MAX_STALLED_COUNT: env.int(1000, 1),
  AUDIT_MIGRATE_ON_START: env.bool(true),
  ...auditIntegrityConfigShape,
  ...shutdownConfigShape,
};

export type AuditWriterConfig = ReturnType<typeof readAuditWriterConfig>;

/**
 * Reads the audit-writer's configuration. The writer used to read its queue prefix from
 * QUEUE_PREFIX while the producers read AUDIT_QUEUE_PREFIX; a value left under the old name alone
 * would now be ignored and put the writer on another queue than the one it was set for, so start-up
 * refuses it (unless AUDIT_QUEUE_PREFIX says the same), naming both variables.
 */
export function readAuditWriterConfig(source: Record<string, string | undefined> = process.env) {
  const retired = source[RETIRED_AUDIT_QUEUE_PREFIX_VARIABLE];
  if (retired && retired !== source[AUDIT_QUEUE_PREFIX_VARIABLE]) {
    throw new ConfigError(
      RETIRED_AUDIT_QUEUE_PREFIX_VARIABLE,
      `is no longer read; set ${AUDIT_QUEUE_PREFIX_VARIABLE} (the name every service reads) to ${JSON.stringify(retired)} instead`,
    );
  }
  const config = readConfig(auditWriterConfigShape, source);
  // The connection defaults are password-less local servers.
  requireInProduction(source, ['AUDIT_INTROSPECTION_CLIENT_SECRET', 'DATABASE_URL', 'REDIS_URL']);
  // The queue's and the sealing/retention schedulers' BullMQ keys, on a Redis Cluster.
  requireHashTaggedPrefix(config.REDIS_URL, AUDIT_QUEUE_PREFIX_VARIABLE, config[AUDIT_QUEUE_PREFIX_VARIABLE]);
  return config;
}
