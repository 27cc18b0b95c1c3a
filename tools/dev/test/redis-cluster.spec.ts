/**
 * The Redis-backed parts of the platform on a Redis Cluster (3 local masters): the audit path
 * (producer → BullMQ → the audit-writer's worker → PostgreSQL), the gateway's rate limiter and
 * budget counters, and the introspection cache's revocation channel — through REDIS_URL=redis+cluster://
 * as the services read it (service-kit's Redis helpers), and with the audit-writer as its own
 * process. See docs/operations.md, "Past one machine".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { Redis, type Cluster } from 'ioredis';
import { bullConnection, createRedisClient, pubSubUrl, requireHashTaggedPrefix, type BullConnection, type RedisClient } from '@cloud-stack/service-kit';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { auditSchemaMigrations, createAuditWriter } from '@cloud-stack/audit-store';
import { revocationChannel, uuidv7, type AuditEvent } from '@cloud-stack/contracts';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { ANONYMOUS, budgetMigrations, BudgetStore, buildStageRuns, rateLimitStage, requestContext, runStages, type BudgetSchema, type GatewayContext } from '@cloud-stack/gateway-pipeline';
import { createRouteStore, gatewayRoutingMigrations, RouteSpecSchema, type GatewayRoutingDatabase } from '@cloud-stack/gateway-routing';
import { createRouteDiscovery, discoveryQueuePrefix, DISCOVERY_QUEUE, scheduleRouteDiscovery } from '@cloud-stack/gateway-admin';
import { createIdentityClient, tokenHash } from '@cloud-stack/identity-client';
import { createLogger, HttpProblem } from '@cloud-stack/service-kit';
import { freePort, startProcess, useTestDatabase, waitForReady, type ServiceProcess } from '@cloud-stack/test-kit';
import { listTasks, taskQueues } from '../src/tasks';
import { startRedisCluster, type LocalRedisCluster } from './support/redis-cluster';

const database = useTestDatabase('redis_cluster');
const writerDatabase = useTestDatabase('redis_cluster_writer');
const identityDatabase = useTestDatabase('redis_cluster_identity');
const logger = createLogger('redis-cluster-test', 'silent');
let cluster: LocalRedisCluster;
let db: Kysely<unknown>;
const clients: Array<Cluster | RedisClient> = [];
const connect = () => {
  const client = cluster.client();
  clients.push(client);
  return client;
};
/** REDIS_URL as a service would be given it: the cluster named by one of its nodes. */
const clusterUrl = () => `redis+cluster://${cluster.nodes[0]!.host}:${cluster.nodes[0]!.port}`;
/** The gateway's command connection, as apps/gateway/src/app.ts opens it from REDIS_URL. */
async function gatewayRedis(): Promise<RedisClient> {
  const client = createRedisClient(clusterUrl(), { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, lazyConnect: true });
  clients.push(client);
  await client.connect();
  return client;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  db = createDb<unknown>(database.url, { max: 4 });
  await migrateToLatest(db, auditSchemaMigrations);
  await migrateToLatest(db, budgetMigrations, { tableName: 'gateway_budget_migration' });
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await db?.destroy();
  await cluster?.stop();
});

/** The hash slot Redis assigns a key (keys of one script or MGET must share one). */
const slotOf = async (client: Cluster, key: string) => Number(await client.call('CLUSTER', 'KEYSLOT', key));

function auditEvent(n: number, tenant: string): AuditEvent {
  return {
    event_id: uuidv7(),
    category: 'request',
    occurred_at: new Date().toISOString(),
    correlation_id: `cluster-${n}`,
    causation_id: null,
    trace_id: null,
    tenant_id: tenant,
    user_id: 'user-1',
    client_id: 'client-1',
    agent_id: null,
    route_id: 'agents.list',
    method: 'GET',
    host: 'api.example.test',
    path: `/api/v1/agents/${n}`,
    status: 200,
    duration_ms: 1.5,
    decision: null,
    sandbox_routed: false,
    trial_mode: false,
    upstream: 'http://agents.internal',
    ip: '10.0.0.1',
    user_agent: 'vitest',
    error_code: null,
  };
}

describe('BullMQ on a Redis Cluster', () => {
  it('refuses a queue whose prefix has no hash tag: its keys fall in different slots', async () => {
    const queue = new Queue('audit', { connection: connect(), prefix: 'bull' });
    try {
      await expect(queue.add('batch', { batch_id: uuidv7(), events: [] })).rejects.toThrow(/CROSSSLOT|same slot/i);
    } finally {
      await queue.close();
    }
  });

  it('carries audit events from the producer to the writer exactly once with AUDIT_QUEUE_PREFIX={audit}', async () => {
    const prefix = '{audit}';
    const writer = createAuditWriter({ db, connection: connect(), prefix, flushMs: 10, logger });
    const producer = createAuditProducer({ connection: connect(), prefix, lingerMs: 2, maxBatch: 50 });
    try {
      const events = Array.from({ length: 300 }, (_, i) => auditEvent(i, `tenant-${i % 3}`));
      for (const e of events) expect(producer.emit(e)).toBe(true);
      await producer.flush();
      expect(producer.stats()).toMatchObject({ enqueued: 300, dropped: 0 });
      const stored = async () => (await sql<{ n: number; ids: number }>`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM audit_events`.execute(db)).rows[0]!;
      await vi.waitFor(async () => expect(await stored()).toEqual({ n: 300, ids: 300 }), { timeout: 30_000, interval: 100 });
      const byTenant = await sql<{ tenant_id: string; n: number }>`SELECT tenant_id, count(*)::int AS n FROM audit_events GROUP BY tenant_id ORDER BY tenant_id`.execute(db);
      expect(byTenant.rows).toEqual([100, 100, 100].map((n, i) => ({ tenant_id: `tenant-${i}`, n })));
    } finally {
      await producer.close();
      await writer.close();
    }
  });
});

describe('the audit-writer process on REDIS_URL=redis+cluster://', () => {
  let writer: ServiceProcess | undefined;
  const connections: BullConnection[] = [];
  afterAll(async () => {
    await writer?.stop();
    for (const c of connections) await c.close();
  });
  const env = (prefix: string) => ({
    DATABASE_URL: writerDatabase.url,
    REDIS_URL: clusterUrl(),
    AUDIT_QUEUE_PREFIX: prefix,
    // Not called here: no one queries the audit API. Revocations are heard on the cluster.
    IDENTITY_URL: 'http://127.0.0.1:9',
    AUDIT_INTROSPECTION_CLIENT_SECRET: 'cluster-test-secret',
  });

  it('refuses to start with a queue prefix that has no hash tag, naming the variable', async () => {
    const refused = startProcess('audit-writer', 'apps/audit-writer/src/main.ts', await freePort(), env('bull'));
    await new Promise<void>((resolve) => (refused.child.exitCode !== null ? resolve() : refused.child.once('exit', () => resolve())));
    expect(refused.child.exitCode).toBe(1);
    expect(refused.output()).toContain('config error: AUDIT_QUEUE_PREFIX: "bull" needs a hash tag');
    expect(() => requireHashTaggedPrefix(clusterUrl(), 'AUDIT_QUEUE_PREFIX', 'bull')).toThrow(/AUDIT_QUEUE_PREFIX/);
  }, 60_000);

  it("stores what a producer on the gateway's connection enqueues, exactly once", async () => {
    writer = startProcess('audit-writer', 'apps/audit-writer/src/main.ts', await freePort(), env('{audit}'));
    await waitForReady(writer, '/ready', 120_000);
    const connection = bullConnection(clusterUrl());
    connections.push(connection);
    // As apps/gateway/src/app.ts builds its producer from REDIS_URL and AUDIT_QUEUE_PREFIX.
    const producer = createAuditProducer({ connection: connection.connection, prefix: '{audit}', lingerMs: 2, maxBatch: 50 });
    const pool = createDb<unknown>(writerDatabase.url, { max: 1 });
    try {
      const events = Array.from({ length: 200 }, (_, i) => auditEvent(i, `tenant-${i % 4}`));
      for (const e of events) expect(producer.emit(e)).toBe(true);
      await producer.flush();
      expect(producer.stats()).toMatchObject({ enqueued: 200, dropped: 0 });
      const stored = async () => (await sql<{ n: number; ids: number }>`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM audit_events`.execute(pool)).rows[0]!;
      await vi.waitFor(async () => expect(await stored()).toEqual({ n: 200, ids: 200 }), { timeout: 60_000, interval: 200 });
    } finally {
      await producer.close();
      await pool.destroy();
    }
  }, 180_000);
});

/** A request context as the gateway handler builds it, with a response that records headers. */
function context(routeSpec: Record<string, unknown>, sub: string): GatewayContext & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const ctx = requestContext({
    req: { headers: {}, method: 'GET' } as IncomingMessage,
    res: { setHeader: (k: string, v: string) => void (headers[k.toLowerCase()] = v) } as unknown as ServerResponse,
    startedAt: 0n,
    receivedAt: Date.now(),
    correlation: { correlationId: 'c', causationId: null, traceId: '0'.repeat(31) + '1', traceparent: '' },
    route: RouteSpecSchema.parse({ upstream: 'http://127.0.0.1:1', path: '/x', ...routeSpec }),
    routeVersion: 1,
    params: {},
    path: '/x',
    query: '',
    host: 'h',
    ip: '127.0.0.1',
  });
  return { ...ctx, headers, subject: { ...ANONYMOUS, sub, authenticated: true } };
}

describe("the gateway's Redis state on a Redis Cluster", () => {
  it('rate-limits per minute and per hour in one script: both keys share a hash slot', async () => {
    const client = await gatewayRedis();
    const stage = rateLimitStage({ redis: client, prefix: 'gw:' });
    const spec = { id: 'agents.list', rate_limit: { per_minute: 5, per_hour: 100 } };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const ctx = context(spec, 'u1');
      try {
        await runStages(buildStageRuns(ctx.route, [stage]), ctx);
        statuses.push(200);
      } catch (err) {
        statuses.push(err instanceof HttpProblem ? err.status : 0);
      }
    }
    // A CROSSSLOT error would not fail the test by itself: the route's default failure mode lets requests through.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const admin = connect();
    await admin.ping(); // the node list fills once the client has connected
    const keys = (await Promise.all(admin.nodes('master').map((node) => node.keys('gw:rl:*')))).flat();
    expect(keys).toHaveLength(2);
    expect(new Set(await Promise.all(keys.map((k) => slotOf(admin, k)))).size).toBe(1);
  });

  it('keeps budget counters for many agents and flushes them to PostgreSQL', async () => {
    const budgets = new BudgetStore({ db: db as unknown as Kysely<BudgetSchema>, redis: await gatewayRedis(), prefix: 'gw:', logger, flushMs: 3_600_000 });
    try {
      const agents = Array.from({ length: 8 }, (_, i) => `agent-${i}`);
      for (const a of agents) await budgets.setCap(a, 'acme', 25);
      for (const a of agents) {
        expect(await budgets.reserve(a, 10)).toMatchObject({ kind: 'charged', spend: 10 });
        expect(await budgets.reserve(a, 10)).toMatchObject({ kind: 'charged', spend: 20 });
        expect(await budgets.reserve(a, 10)).toMatchObject({ kind: 'denied', spend: 20 });
      }
      await budgets.flush();
      const spend = await sql<{ agent_id: string; spend: string }>`SELECT agent_id, spend::text FROM agent_spend ORDER BY agent_id`.execute(db);
      expect(spend.rows.map((r) => [r.agent_id, Number(r.spend)])).toEqual(agents.map((a) => [a, 20]));
    } finally {
      await budgets.close();
    }
  });

  it("runs route discovery on BullMQ's job scheduler under GATEWAY_REDIS_PREFIX, with the queue's own hash tag", async () => {
    await migrateToLatest(db, gatewayRoutingMigrations, { tableName: 'gateway_routing_migration' });
    const prefix = discoveryQueuePrefix(clusterUrl(), 'gw:');
    expect(prefix).toBe('gw:{bull}');
    const discovery = createRouteDiscovery({ store: createRouteStore(db as unknown as Kysely<GatewayRoutingDatabase>), logger });
    const schedule = await scheduleRouteDiscovery({ discovery, redis: { url: clusterUrl(), prefix }, logger, everyMs: 3_600_000 });
    const connection = bullConnection(clusterUrl());
    const queue = new Queue(DISCOVERY_QUEUE, { connection: connection.connection, prefix });
    try {
      expect((await queue.getJobSchedulers()).map((j) => j.key)).toEqual(['route-discovery']);
      // The scheduler's first run comes at once; it completes (nothing live to discover yet).
      await vi.waitFor(async () => expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 1, failed: 0 }), { timeout: 30_000, interval: 100 });
    } finally {
      await queue.close();
      await schedule.close();
      await connection.close();
    }
  }, 60_000);

  it("evicts a cached introspection answer when identity publishes the revocation on another node", async () => {
    let asked = 0;
    const identity: Server = createServer((_req, res) => {
      asked++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ active: true, sub: 'u1', jti: 'jti-1', exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) }));
    });
    await new Promise<void>((r) => identity.listen(0, '127.0.0.1', r));
    const port = (identity.address() as { port: number }).port;
    const last = cluster.nodes.at(-1);
    let publisher: Redis | undefined;
    const client = createIdentityClient({
      url: `http://127.0.0.1:${port}`,
      clientId: 'gateway',
      clientSecret: 'secret',
      // As the gateway derives it from REDIS_URL: a subscriber on the cluster's seed node.
      revocations: { redisUrl: pubSubUrl(clusterUrl()), prefix: 'cs:' },
      logger,
    });
    try {
      await client.ready();
      expect((await client.introspect('token-1')).active).toBe(true);
      expect((await client.introspect('token-1')).active).toBe(true);
      expect(asked).toBe(1);
      // Published on another master (as identity would, connected elsewhere): cluster pub/sub reaches every node's subscribers.
      publisher = new Redis({ host: last!.host, port: last!.port });
      await publisher.publish(revocationChannel('cs:'), JSON.stringify({ jti: 'jti-1', exp: Math.floor(Date.now() / 1000) + 600, token_sha256: tokenHash('token-1') }));
      await vi.waitFor(async () => expect((await client.introspect('token-1')).active).toBe(false), { timeout: 10_000, interval: 50 });
    } finally {
      publisher?.disconnect();
      await client.close();
      await new Promise<void>((r) => identity.close(() => r()));
    }
  });
});

describe('identity and `npm run tasks` on REDIS_URL=redis+cluster://', () => {
  let identity: ServiceProcess | undefined;
  afterAll(() => identity?.stop());

  it("runs identity on the cluster, and lists every service's job schedulers from it", async () => {
    identity = startProcess('identity', 'apps/identity/src/main.ts', await freePort(), {
      DATABASE_URL: identityDatabase.url,
      REDIS_URL: clusterUrl(),
      REDIS_PREFIX: 'cs:',
      AUDIT_QUEUE_PREFIX: '{audit}',
    });
    // Ready: PostgreSQL migrated, the event bus subscribed on the seed node and answering on the cluster, the purge scheduled.
    await waitForReady(identity, '/ready', 120_000);
    const env = { REDIS_URL: clusterUrl(), REDIS_PREFIX: 'cs:', AUDIT_QUEUE_PREFIX: '{audit}' };
    expect(taskQueues(env).map((q) => q.prefix)).toEqual(['cs:{bull}', 'gw:{bull}', '{audit}']);
    // The audit-writer process and route discovery above registered theirs on the same cluster.
    const { rows, empty } = await listTasks(clusterUrl(), taskQueues(env));
    expect(empty).toEqual([]);
    expect(rows.map((r) => `${r.owner} ${r.name} ${r.queue}${r.failed ? ' failed' : ''}`).sort()).toEqual([
      'audit-writer audit-retention {audit}:audit-maintenance',
      'audit-writer audit-seal {audit}:audit-maintenance',
      'gateway route-discovery gw:{bull}:gateway-route-discovery',
      'identity identity-token-purge cs:{bull}:identity-maintenance',
    ]);
  }, 180_000);
});
