import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Kysely } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import { enforceRetention, type RetentionResult } from '../retention/retention';
import type { RetentionPolicy } from '../retention/policy';
import { sealClosedIntervals, type SealedDigest } from './seal';
import type { DigestSigner } from './signing-key';

/** BullMQ queue of the sealing and retention jobs (not the `audit` event queue). */
export const AUDIT_MAINTENANCE_QUEUE = 'audit-maintenance';

export interface AuditMaintenanceOptions {
  readonly db: Kysely<unknown>;
  /** BullMQ connection (e.g. `{ url: REDIS_URL }` or an ioredis instance with maxRetriesPerRequest: null). */
  readonly connection: ConnectionOptions;
  /** BullMQ key prefix; default "bull". */
  readonly prefix?: string;
  readonly signer: DigestSigner;
  readonly logger: Logger;
  readonly seal: {
    /** Sealed interval length (AUDIT_SEAL_INTERVAL_SECONDS, default 3600). */
    readonly intervalSeconds: number;
    /** Wait for late events before sealing (AUDIT_SEAL_GRACE_SECONDS, default 300). */
    readonly graceSeconds: number;
    /** How often the seal job runs (AUDIT_SEAL_EVERY_MS, default 60000). */
    readonly everyMs: number;
  };
  readonly retention: {
    readonly policy: RetentionPolicy;
    /** How often the retention job runs (AUDIT_RETENTION_EVERY_MS, default 3600000). */
    readonly everyMs: number;
  };
  /** Run the seal job once at start (default true). */
  readonly runAtStart?: boolean;
}

export interface AuditMaintenance {
  /** Seals closed intervals now, outside the schedule (tests, CLI). */
  sealNow(): Promise<SealedDigest[]>;
  retainNow(): Promise<RetentionResult>;
  /** Closes the worker (finishing the running job) and the queue; the schedulers stay in Redis for other replicas. */
  stop(): Promise<void>;
}

/**
 * Registers two BullMQ job schedulers on `audit-maintenance` — `audit-seal` and
 * `audit-retention` — and a worker that runs them. Every writer replica may call this: the
 * schedulers are upserted (one schedule, not one per replica) and the jobs themselves are safe
 * to run concurrently (advisory locks in PostgreSQL).
 */
export async function startAuditMaintenance(options: AuditMaintenanceOptions): Promise<AuditMaintenance> {
  const { db, logger } = options;
  const base = { connection: options.connection, ...(options.prefix ? { prefix: options.prefix } : {}) };
  const sealNow = () =>
    sealClosedIntervals(db, options.signer, { intervalSeconds: options.seal.intervalSeconds, graceSeconds: options.seal.graceSeconds });
  const retainNow = () => enforceRetention(db, { policy: options.retention.policy });

  const queue = new Queue(AUDIT_MAINTENANCE_QUEUE, base);
  // A failed run is retried with backoff, then stays in the failed set where `npm run tasks` shows it.
  const retried = { attempts: 5, backoff: { type: 'exponential', delay: 5_000 } };
  await queue.upsertJobScheduler('audit-seal', { every: options.seal.everyMs }, {
    name: 'seal',
    opts: { ...retried, removeOnComplete: 100, removeOnFail: 100 },
  });
  await queue.upsertJobScheduler('audit-retention', { every: options.retention.everyMs }, {
    name: 'retention',
    opts: { ...retried, removeOnComplete: 100, removeOnFail: 100 },
  });

  const worker = new Worker(
    AUDIT_MAINTENANCE_QUEUE,
    async (job) => {
      if (job.name === 'seal') {
        const sealed = await sealNow();
        if (sealed.length) logger.info({ digests: sealed.length, last: sealed[sealed.length - 1] }, 'audit intervals sealed');
        return { sealed: sealed.length };
      }
      if (job.name === 'retention') {
        const result = await retainNow();
        if (result.dropped.length || result.archive_rows_pruned) logger.info({ retention: result }, 'audit retention enforced');
        return { dropped: result.dropped.length, archive_rows_pruned: result.archive_rows_pruned };
      }
      return undefined;
    },
    { ...base, concurrency: 1 },
  );
  worker.on('failed', (job, err) => logger.error({ err, job: job?.name, attempt: job?.attemptsMade, attempts: retried.attempts }, 'audit maintenance job failed'));
  worker.on('error', (err) => logger.error({ err }, 'audit maintenance worker error'));

  if (options.runAtStart ?? true) await sealNow().catch((err: unknown) => logger.error({ err }, 'initial audit seal failed'));

  return {
    sealNow,
    retainNow,
    stop: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
