import { Queue, Worker } from 'bullmq';
import type { Logger } from '@cloud-stack/service-kit';
import type { RouteDiscovery } from './discover';

export interface DiscoveryScheduleOptions {
  readonly discovery: RouteDiscovery;
  readonly redis: { readonly url: string; readonly prefix?: string };
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Default: hourly. */
  readonly everyMs?: number;
  readonly queueName?: string;
}

export interface DiscoverySchedule {
  close(): Promise<void>;
}

export const DISCOVERY_QUEUE = 'gateway-route-discovery';
const SCHEDULER_ID = 'route-discovery';

/**
 * Runs discovery on BullMQ's job scheduler. Every replica may call this: the scheduler is one
 * Redis entry (upserted, not added), so each period yields one job, run by whichever worker takes it.
 */
export async function scheduleRouteDiscovery(options: DiscoveryScheduleOptions): Promise<DiscoverySchedule> {
  const name = options.queueName ?? DISCOVERY_QUEUE;
  const connection = { url: options.redis.url };
  const prefix = options.redis.prefix ? { prefix: options.redis.prefix } : {};
  const queue = new Queue(name, { connection, ...prefix });
  queue.on('error', (err) => options.logger.warn({ err }, 'route discovery: queue connection error'));
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: options.everyMs ?? 3_600_000 },
    // A failed run is retried with backoff, then stays in the failed set where `npm run tasks` shows it.
    { name: 'discover', opts: { attempts: 3, backoff: { type: 'exponential', delay: 30_000 }, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
  );
  const worker = new Worker(
    name,
    async () => {
      const result = await options.discovery.run();
      return { live_version: result.live_version, proposal: result.proposal?.version ?? null, created: result.created, added: result.added.length };
    },
    { connection, ...prefix, concurrency: 1 },
  );
  worker.on('error', (err) => options.logger.warn({ err }, 'route discovery: worker connection error'));
  worker.on('failed', (job, err) => options.logger.error({ err, attempt: job?.attemptsMade, attempts: 3 }, 'route discovery: run failed'));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
