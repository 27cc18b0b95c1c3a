import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { isRedisClusterUrl, type Logger } from '@cloud-stack/service-kit';

/** BullMQ queue of identity's housekeeping jobs. */
export const IDENTITY_MAINTENANCE_QUEUE = 'identity-maintenance';

/**
 * The maintenance queue's BullMQ prefix under REDIS_PREFIX. On a Redis Cluster it carries its own
 * hash tag (`{bull}`), so the queue's keys share a slot while identity's other keys do not.
 */
export function identityQueuePrefix(redisUrl: string, redisPrefix: string): string {
  return `${redisPrefix}${isRedisClusterUrl(redisUrl) ? '{bull}' : 'bull'}`;
}
/** The job scheduler that deletes expired refresh tokens and revocation rows. */
export const TOKEN_PURGE_SCHEDULER = 'identity-token-purge';

/** Rows one purge deleted, by table (the job's return value, shown by `npm run tasks`). */
export type PurgeResult = Record<'refresh_tokens' | 'revoked_tokens' | 'subject_revocations', number>;

export interface TokenPurgeScheduleOptions {
  /** BullMQ connection: `{ url: REDIS_URL }` or an ioredis instance (or Cluster) with maxRetriesPerRequest: null. */
  readonly connection: ConnectionOptions;
  /** BullMQ key prefix: `${REDIS_PREFIX}bull` (hash-tagged, e.g. `{identity}`, on a Redis Cluster). */
  readonly prefix: string;
  readonly purge: () => Promise<PurgeResult>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Default: hourly. */
  readonly everyMs?: number;
  /** Runs of one period before it counts as failed (default 5, exponential backoff from `backoffMs`). */
  readonly attempts?: number;
  /** Default 30 s. */
  readonly backoffMs?: number;
}

export interface TokenPurgeSchedule {
  close(): Promise<void>;
}

/**
 * Deletes expired refresh tokens and revocation rows from BullMQ's job scheduler. Every replica
 * may call this: the scheduler is one Redis entry (upserted), so each period yields one job, run
 * by whichever replica's worker takes it. A failed run is retried with backoff and stays in the
 * queue's failed set (with its reason) once its attempts are spent, where `npm run tasks` shows it.
 */
export async function scheduleTokenPurge(options: TokenPurgeScheduleOptions): Promise<TokenPurgeSchedule> {
  const base = { connection: options.connection, prefix: options.prefix };
  const attempts = options.attempts ?? 5;
  const queue = new Queue(IDENTITY_MAINTENANCE_QUEUE, base);
  queue.on('error', (err) => options.logger.warn({ err }, 'token purge: queue connection error'));
  await queue.upsertJobScheduler(
    TOKEN_PURGE_SCHEDULER,
    { every: options.everyMs ?? 3_600_000 },
    {
      name: 'purge-expired-tokens',
      opts: { attempts, backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000 }, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
    },
  );
  const worker = new Worker(
    IDENTITY_MAINTENANCE_QUEUE,
    async () => {
      const result = await options.purge();
      if (result.refresh_tokens || result.revoked_tokens || result.subject_revocations) options.logger.info({ purged: result }, 'expired tokens purged');
      return result;
    },
    { ...base, concurrency: 1 },
  );
  worker.on('error', (err) => options.logger.warn({ err }, 'token purge: worker connection error'));
  worker.on('failed', (job, err) =>
    options.logger.error({ err, attempt: job?.attemptsMade, attempts, will_retry: (job?.attemptsMade ?? attempts) < attempts }, 'token purge failed'),
  );
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
