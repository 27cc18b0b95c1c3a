import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { createDb, migrateToLatest, type Kysely } from '@cloud-stack/db';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { createRouteStore, gatewayRoutingMigrations, type GatewayRoutingDatabase, type RouteStore } from '@cloud-stack/gateway-routing';
import { createRouteDiscovery, DISCOVERY_QUEUE, scheduleRouteDiscovery, type DiscoverySchedule } from '../src/index';
import { logger } from './harness';
import { AGENTS_OPENAPI, serveDocuments } from './openapi-server';

const database = useTestDatabase('gw_admin_schedule');
const redis = useRedisPrefix('gw_admin_schedule');
let db: Kysely<GatewayRoutingDatabase>;
let store: RouteStore;
let backend: Awaited<ReturnType<typeof serveDocuments>>;
const schedules: DiscoverySchedule[] = [];

beforeAll(async () => {
  backend = await serveDocuments({ '/openapi.json': AGENTS_OPENAPI });
  db = createDb<GatewayRoutingDatabase>(database.url, { max: 4 });
  await migrateToLatest(db as unknown as Kysely<unknown>, gatewayRoutingMigrations);
  store = createRouteStore(db);
  const draft = await store.createDraft({ routes: [{ id: 'agents.list', product: 'agents', path: '/agents', methods: ['GET'], upstream: backend.url }] });
  await store.activate(draft.version);
});
afterAll(async () => {
  for (const s of schedules) await s.close();
  await db.destroy();
  await backend.close();
});

describe('scheduleRouteDiscovery', () => {
  it('runs discovery from the job scheduler, and two replicas share one scheduler', async () => {
    const discovery = createRouteDiscovery({ store, logger });
    const options = { discovery, logger, redis: { url: redis.url, prefix: redis.prefix }, everyMs: 60_000 };
    schedules.push(await scheduleRouteDiscovery(options), await scheduleRouteDiscovery(options));

    // The scheduler's first job runs right away; it drafts the proposal.
    await vi.waitFor(async () => expect(await discovery.proposals()).toHaveLength(1), { timeout: 15_000, interval: 100 });
    const [proposal] = await discovery.proposals();
    expect(proposal!.added.map((r) => r.path).sort()).toEqual(['/agents/{agentId}', '/agents/{agentId}/execute']);

    const queue = new Queue(DISCOVERY_QUEUE, { connection: { url: redis.url }, prefix: redis.prefix });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => ({ key: s.key, every: s.every }))).toEqual([{ key: 'route-discovery', every: 60_000 }]);
    } finally {
      await queue.close();
    }
  });
});
