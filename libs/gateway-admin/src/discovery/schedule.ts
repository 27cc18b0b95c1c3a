import { Queue, Worker } from 'bullmq';
import { bullConnection, isRedisClusterUrl, type Logger } from '@cloud-stack/service-kit';
import type { RouteDiscovery } from './discover';

export interface DiscoveryScheduleOptions {
  readonly discovery: RouteDiscovery;
  /** REDIS_URL (a single server or `redis+cluster://`; on a cluster the prefix needs a hash tag). */
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

/**
 * The discovery queue's BullMQ prefix under GATEWAY_REDIS_PREFIX. On a Redis Cluster it carries its
 * own hash tag (`gw:{bull}`), so the queue's keys share a slot while the rate-limit and budget keys
 * under the same GATEWAY_REDIS_PREFIX stay spread over the cluster by their own tags.
 */
export function discoveryQueuePrefix(redisUrl: string, gatewayRedisPrefix: string): string {
  return `${gatewayRedisPrefix}${isRedisClusterUrl(redisUrl) ? '{bull}' : 'bull'}`;
}
const SCHEDULER_ID = 'route-discovery';

/**
 * Runs discovery on BullMQ's job scheduler. Every replica may call this: the scheduler is one
 * Redis entry (upserted, not added), so each period yields one job, run by whichever worker takes it.
 */
export async function scheduleRouteDiscovery(options: DiscoveryScheduleOptions): Promise<DiscoverySchedule> {
  const name = options.queueName ?? DISCOVERY_QUEUE;
  const redis = bullConnection(options.redis.url);
  const { connection } = redis;
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
      await redis.close();
    },
  };
}
