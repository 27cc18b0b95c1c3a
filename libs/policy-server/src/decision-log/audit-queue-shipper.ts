import { createAuditProducer } from '@cloud-stack/audit-producer';
import { bullConnection } from '@cloud-stack/service-kit';
import type { AuditQueueShipping } from './shipping';
import type { Shipper, WorkerLog } from './worker';

function within(ms: number, work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/**
 * The audit queue, driven from the decision-log worker: each entry arrives as its `policy_decision`
 * audit event's JSON, which the shared producer groups into BullMQ jobs (`AuditBatch`). Loaded only
 * when this sink is configured (the producer and its Redis client are heavy to load).
 */
export function auditQueueShipper(options: AuditQueueShipping, log: WorkerLog): Shipper {
  // A redis+cluster:// REDIS_URL gives one Cluster client, closed after the producer.
  const redis = bullConnection(options.redisUrl);
  const producer = createAuditProducer({
    connection: redis.connection,
    prefix: options.prefix,
    maxBatch: options.maxBatch,
    lingerMs: options.lingerMs,
    addAttempts: options.attempts,
    // Batches of up to 500 entries of ~1.5 KB: deflated, one add costs Redis ~0.4 ms instead of
    // ~4.4 ms (evalsha in INFO commandstats), and this worker's thread does the compressing.
    deflate: true,
    logger: {
      warn: (obj: unknown, msg?: string) => log('warn', msg ?? 'audit producer', obj),
      error: (obj: unknown, msg?: string) => log('error', msg ?? 'audit producer', obj),
    },
  });
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  return {
    // Each is an audit event's JSON (entryEncoder); a refused one is counted by the producer itself (its `dropped`).
    add: (json) => void json.forEach((event) => producer.emitEncoded(event)),
    flush: () => within(closeTimeoutMs, producer.flush()),
    close: () => within(closeTimeoutMs, producer.close().finally(() => redis.close())),
    progress: () => {
      const s = producer.stats();
      return { shipped: s.enqueued, dropped: s.dropped };
    },
  };
}
