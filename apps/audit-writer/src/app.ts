import type { Express } from 'express';
import { createDb, sql } from '@cloud-stack/db';
import { bullConnection, createApp, MetricsRegistry, pubSubUrl, type Logger } from '@cloud-stack/service-kit';
import {
  createAuditApiRouter,
  createAuditWriter,
  loadDigestSigner,
  startAuditMaintenance,
} from '@cloud-stack/audit-store';
import { createIdentityClient } from '@cloud-stack/identity-client';
import type { AuditWriterConfig } from './config';
import { migrateAudit } from './migrate';

export interface AuditWriterService {
  readonly app: Express;
  close(): Promise<void>;
}

/** Wires the audit-writer: migrations, the queue worker, sealing/retention schedules, the read API. */
export async function createAuditWriterService(config: AuditWriterConfig, logger: Logger): Promise<AuditWriterService> {
  const db = createDb<unknown>(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: 'audit-writer' });
  if (config.AUDIT_MIGRATE_ON_START) {
    const applied = await migrateAudit(config.DATABASE_URL, db);
    if (applied.length) logger.info({ applied }, 'audit migrations applied');
  }
  const metrics = new MetricsRegistry();
  // One shared Cluster when REDIS_URL is redis+cluster:// (closed last); BullMQ's own connections otherwise.
  const redis = bullConnection(config.REDIS_URL);
  const { connection } = redis;

  const writer = createAuditWriter({
    db,
    connection,
    prefix: config.AUDIT_QUEUE_PREFIX,
    batchSize: config.AUDIT_BATCH_SIZE,
    flushMs: config.AUDIT_FLUSH_MS,
    concurrency: config.AUDIT_CONCURRENCY,
    parallelFlushes: config.AUDIT_PARALLEL_FLUSHES,
    partitionsAhead: config.AUDIT_PARTITIONS_AHEAD,
    lockDurationMs: config.AUDIT_LOCK_DURATION_MS,
    stalledIntervalMs: config.AUDIT_STALLED_INTERVAL_MS,
    maxStalledCount: config.AUDIT_MAX_STALLED_COUNT,
    logger,
    metrics,
  });

  const signer = await loadDigestSigner(db, { signingKey: config.AUDIT_SIGNING_KEY, logger });
  const maintenance = await startAuditMaintenance({
    db,
    connection,
    prefix: config.AUDIT_QUEUE_PREFIX,
    signer,
    logger,
    seal: { intervalSeconds: config.AUDIT_SEAL_INTERVAL_SECONDS, graceSeconds: config.AUDIT_SEAL_GRACE_SECONDS, everyMs: config.AUDIT_SEAL_EVERY_MS },
    retention: { policy: config.AUDIT_RETENTION_DAYS, everyMs: config.AUDIT_RETENTION_EVERY_MS },
  });

  // Revocations at identity evict cached answers at once; the TTL only bounds a Redis outage.
  const identity = createIdentityClient({
    url: config.IDENTITY_URL,
    clientId: config.AUDIT_INTROSPECTION_CLIENT_ID,
    clientSecret: config.AUDIT_INTROSPECTION_CLIENT_SECRET,
    cacheTtlSeconds: config.AUDIT_INTROSPECTION_CACHE_SECONDS,
    revocations: { redisUrl: pubSubUrl(config.IDENTITY_REDIS_URL ?? config.REDIS_URL), prefix: config.IDENTITY_REDIS_PREFIX },
    logger,
    metrics,
  });
  // Serve once revocations are heard; until then only the TTL would bound a revoked token.
  await identity.ready();

  const app = createApp({
    name: 'audit-writer',
    logger,
    metrics,
    checks: [{ name: 'database', check: async () => void (await sql`SELECT 1`.execute(db)) }, ...writer.readiness, identity.readiness],
    mount: (a) => a.use(createAuditApiRouter({ db, identity, platformTenantId: config.PLATFORM_TENANT_ID })),
  });

  return {
    app,
    async close() {
      await writer.close();
      await maintenance.stop();
      await redis.close();
      await identity.close();
      await db.destroy();
    },
  };
}
