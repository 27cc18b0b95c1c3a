import { afterAll, describe, expect, it, vi } from 'vitest';
import { Queue, Worker } from 'bullmq';
import { AUDIT_MAINTENANCE_QUEUE } from '@cloud-stack/audit-store';
import { scheduleTokenPurge, type TokenPurgeSchedule } from '@cloud-stack/identity-core';
import { useRedisPrefix } from '@cloud-stack/test-kit';
import { formatTasks, listTasks, taskQueues } from '../src/tasks';

const redis = useRedisPrefix('dev_tasks');
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('npm run tasks', () => {
  it("derives each service's scheduler queue from the variables the services read", () => {
    expect(taskQueues({}).map((q) => `${q.owner} ${q.prefix}:${q.queue}`)).toEqual([
      'identity bull:identity-maintenance',
      'gateway gw:bull:gateway-route-discovery',
      'audit-writer bull:audit-maintenance',
    ]);
    expect(taskQueues({ REDIS_PREFIX: 'id:', GATEWAY_REDIS_PREFIX: '{gw}:', AUDIT_QUEUE_PREFIX: '{audit}' }).map((q) => q.prefix)).toEqual(['id:bull', '{gw}:bull', '{audit}']);
  });

  it('lists every scheduler with its owner, schedule and outcome, and reports a task that failed after its retries', async () => {
    const env = { REDIS_PREFIX: `${redis.prefix}:id:`, GATEWAY_REDIS_PREFIX: `${redis.prefix}:gw:`, AUDIT_QUEUE_PREFIX: `${redis.prefix}:audit` };
    const [identity, , audit] = taskQueues(env);

    // identity's real scheduler, its purge failing every time: retried, then failed for good.
    const purge: TokenPurgeSchedule = await scheduleTokenPurge({
      connection: { url: redis.url },
      prefix: identity!.prefix,
      purge: () => Promise.reject(new Error('relation "refresh_tokens" does not exist')),
      logger: quiet,
      attempts: 2,
      backoffMs: 10,
    });
    closers.push(() => purge.close());
    // A scheduler on the audit-writer's queue whose job succeeds.
    const queue = new Queue(AUDIT_MAINTENANCE_QUEUE, { connection: { url: redis.url }, prefix: audit!.prefix });
    await queue.upsertJobScheduler('audit-seal', { every: 60_000 }, { name: 'seal' });
    const worker = new Worker(AUDIT_MAINTENANCE_QUEUE, async () => ({ sealed: 0 }), { connection: { url: redis.url }, prefix: audit!.prefix });
    closers.push(() => worker.close(), () => queue.close());

    const settled = async () => {
      const { rows } = await listTasks(redis.url, taskQueues(env));
      expect(rows.map((r) => r.lastRun !== null)).toEqual([true, true]);
      return rows;
    };
    const rows = await vi.waitFor(settled, { timeout: 15_000, interval: 100 });
    expect(rows).toEqual([
      expect.objectContaining({
        name: 'identity-token-purge',
        owner: 'identity',
        schedule: 'every 1h',
        outcome: 'failed after 2 of 2 attempts: relation "refresh_tokens" does not exist',
        failed: true,
      }),
      expect.objectContaining({ name: 'audit-seal', owner: 'audit-writer', schedule: 'every 1min', outcome: 'ok {"sealed":0}', failed: false }),
    ]);
    for (const row of rows) expect(Date.parse(row.nextRun!)).toBeGreaterThan(Date.parse(row.lastRun!));

    const { rows: again, empty } = await listTasks(redis.url, taskQueues(env));
    const table = formatTasks(again, empty);
    expect(table.split('\n')[0]).toMatch(/^task +owner +schedule +last run +outcome +next run$/);
    expect(table).toContain(`(no schedulers in ${redis.prefix}:gw:bull:gateway-route-discovery: gateway has not run`);
  });
});
