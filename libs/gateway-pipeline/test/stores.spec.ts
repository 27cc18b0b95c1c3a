import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createDb, migrateToLatest, type Kysely } from '@cloud-stack/db';
import { RouteSpecSchema } from '@cloud-stack/gateway-routing';
import { createLogger, HttpProblem } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { ANONYMOUS, budgetMigrations, BudgetStore, budgetStage, buildStageRuns, leaseSize, rateLimitStage, runStages, type BudgetSchema, type GatewayContext } from '../src/index';
import { bareExchange, testContext } from './context';

const database = useTestDatabase('gw_pipeline');
const redisPrefix = useRedisPrefix('gw_pipeline');
let db: Kysely<BudgetSchema>;
let redis: Redis;
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  db = createDb<BudgetSchema>(database.url, { max: 4 });
  await migrateToLatest(db as unknown as Kysely<unknown>, budgetMigrations);
  redis = new Redis(redisPrefix.url);
});
afterAll(async () => {
  redis.disconnect();
  await db.destroy();
});

/** A request context as the handler builds it, with a response that only records headers. */
function context(routeSpec: Record<string, unknown>, subject: Partial<GatewayContext['subject']> = {}): GatewayContext & { headers: Record<string, string> } {
  const { req, res, headers } = bareExchange();
  const route = RouteSpecSchema.parse({ upstream: 'http://127.0.0.1:1', path: '/x', ...routeSpec });
  return { headers, ...testContext({ req, res, route, ip: '127.0.0.1', subject: { ...ANONYMOUS, ...subject } }) };
}

async function outcome(ctx: GatewayContext, stages: Parameters<typeof buildStageRuns>[1]): Promise<number> {
  try {
    await runStages(buildStageRuns(ctx.route, stages), ctx);
    return 200;
  } catch (err) {
    if (err instanceof HttpProblem) return err.status;
    throw err;
  }
}

describe('rate limit (GCRA in Redis)', () => {
  it('allows the limit in a burst, then refuses with the wait, per subject', async () => {
    const stage = rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` });
    const spec = { id: 'rl.burst', rate_limit: { per_minute: 5 } };
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await outcome(context(spec, { sub: 'u1', authenticated: true }), [stage]));
    expect(results).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(await outcome(context(spec, { sub: 'u2', authenticated: true }), [stage])).toBe(200);
    const anon = context(spec);
    expect(await outcome(anon, [stage])).toBe(200);
    expect(anon.headers['ratelimit-remaining']).toBe('4');
  });

  it('applies the tighter of a per-minute and a per-hour limit, atomically under concurrency', async () => {
    const stage = rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` });
    const spec = { id: 'rl.both', rate_limit: { per_minute: 100, per_hour: 10 } };
    const all = await Promise.all(Array.from({ length: 30 }, () => outcome(context(spec, { sub: 'u1', authenticated: true }), [stage])));
    expect(all.filter((s) => s === 200)).toHaveLength(10);
    const ctx = context(spec, { sub: 'u1', authenticated: true });
    await outcome(ctx, [stage]);
    expect(ctx.headers['ratelimit-limit']).toBe('10');
    expect(ctx.headers['ratelimit-policy']).toBe('100;w=60, 10;w=3600');
  });

  it('spends a large limit from leases without ever exceeding it, across workers', async () => {
    // Two stages on one Redis stand for two gateway workers.
    const workers = [rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` }), rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` })];
    const calls = { n: 0 };
    const gcra = (redis as unknown as { gatewayGcra: (...a: unknown[]) => Promise<unknown> }).gatewayGcra.bind(redis);
    (redis as unknown as { gatewayGcra: (...a: unknown[]) => Promise<unknown> }).gatewayGcra = (...a: unknown[]) => (calls.n++, gcra(...a));
    const spec = { id: 'rl.lease', rate_limit: { per_minute: 1000 } };
    expect(leaseSize([1000])).toBe(10);
    let allowed = 0;
    const started = Date.now();
    for (let i = 0; i < 1500; i++) if ((await outcome(context(spec, { sub: 'busy', authenticated: true }), [workers[i % 2]!])) === 200) allowed++;
    // The burst of 1000, plus what the sliding window gives back while the loop runs (1000/min).
    const regained = Math.ceil(((Date.now() - started) * 1000) / 60_000);
    expect(allowed).toBeGreaterThanOrEqual(1000);
    expect(allowed).toBeLessThanOrEqual(1000 + regained);
    expect(calls.n).toBeLessThan(1500 / 4);
    expect(leaseSize([3])).toBe(1);
    expect(leaseSize([100_000_000, 1_000_000_000])).toBe(50);
  });

  it('lets the misses of one subject that come together share one lease round trip', async () => {
    const stage = rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` });
    const calls = { n: 0 };
    const client = redis as unknown as { gatewayGcra: (...a: unknown[]) => Promise<unknown> };
    const gcra = client.gatewayGcra;
    client.gatewayGcra = (...a: unknown[]) => (calls.n++, gcra.apply(redis, a));
    try {
      // Leases of 10 cells: 40 requests at once need 4 round trips, not one each (each of which
      // took 10 cells in Redis that the next lease replaced).
      const spec = { id: 'rl.herd', rate_limit: { per_minute: 1000 } };
      const all = await Promise.all(Array.from({ length: 40 }, () => outcome(context(spec, { sub: 'herd', authenticated: true }), [stage])));
      expect(all.every((s) => s === 200)).toBe(true);
      expect(calls.n).toBe(4);
      // Another worker's first lease shows what Redis counted: 40 cells, then its own 10.
      const other = context(spec, { sub: 'herd', authenticated: true });
      expect(await outcome(other, [rateLimitStage({ redis, prefix: `${redisPrefix.prefix}:` })])).toBe(200);
      expect(Number(other.headers['ratelimit-remaining'])).toBeGreaterThanOrEqual(959);
      expect(Number(other.headers['ratelimit-remaining'])).toBeLessThanOrEqual(961);
    } finally {
      client.gatewayGcra = gcra;
    }
  });

  it('fails open or closed as the route says when Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    dead.on('error', () => undefined);
    const stage = rateLimitStage({ redis: dead, prefix: 'x:' });
    const open = context({ id: 'rl.open', rate_limit: { per_minute: 1 }, failure: { rate_limit: 'open' } });
    expect(await outcome(open, [stage])).toBe(200);
    expect(open.headers['x-ratelimit-enforcement']).toBe('degraded');
    expect(await outcome(context({ id: 'rl.closed', rate_limit: { per_minute: 1 }, failure: { rate_limit: 'closed' } }), [stage])).toBe(503);
    dead.disconnect();
  });
});

describe('budget store and guard', () => {
  it('never lets concurrent requests spend past the cap', async () => {
    const budgets = new BudgetStore({ db, redis, prefix: `${redisPrefix.prefix}:a:`, logger });
    await budgets.setCap('agent-1', 'acme', 95);
    const stage = budgetStage({ budgets });
    const spec = { id: 'exec', cost: 10 };
    const all = await Promise.all(Array.from({ length: 25 }, () => outcome(context(spec, { agent_id: 'agent-1', authenticated: true }), [stage])));
    expect(all.filter((s) => s === 200)).toHaveLength(9);
    expect(all.filter((s) => s === 402)).toHaveLength(16);
    expect(await budgets.state('agent-1')).toEqual({ monthly_spend: 90, cap: 95 });
    await budgets.close();
  });

  it('keeps the month durable in PostgreSQL and re-seeds Redis from it', async () => {
    const prefix = `${redisPrefix.prefix}:b:`;
    const budgets = new BudgetStore({ db, redis, prefix, logger });
    await budgets.setCap('agent-2', null, 100);
    expect(await budgets.reserve('agent-2', 30)).toMatchObject({ kind: 'charged', spend: 30 });
    await budgets.refund('agent-2', 30);
    expect(await budgets.reserve('agent-2', 40)).toMatchObject({ kind: 'charged', spend: 40 });
    await budgets.flush();
    const row = await db.selectFrom('agent_spend').select(['spend', 'month']).where('agent_id', '=', 'agent-2').executeTakeFirstOrThrow();
    expect(Number(row.spend)).toBe(40);
    // Redis loses the counter (a restart without persistence): the next charge starts from PostgreSQL.
    await redis.del(`${prefix}budget:agent-2:${row.month}`);
    expect(await budgets.reserve('agent-2', 50)).toMatchObject({ kind: 'charged', spend: 90 });
    expect(await budgets.reserve('agent-2', 20)).toEqual({ kind: 'denied', spend: 90, cap: 100 });
    expect(await budgets.reserve('no-cap-agent', 1e6)).toEqual({ kind: 'no_cap' });
    await budgets.close();
  });

  it('lets free routes and agent-less subjects pass without touching the budget', async () => {
    const budgets = new BudgetStore({ db, redis, prefix: `${redisPrefix.prefix}:c:`, logger });
    const stage = budgetStage({ budgets });
    expect(buildStageRuns(RouteSpecSchema.parse({ id: 'free', path: '/x', upstream: 'http://h', cost: 0 }), [stage])).toHaveLength(0);
    expect(await outcome(context({ id: 'paid', cost: 5 }, { authenticated: true }), [stage])).toBe(200);
    await budgets.close();
  });
});
