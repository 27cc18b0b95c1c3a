/**
 * The Redis-backed parts of the platform on a Redis Cluster (3 local masters): the audit path
 * (producer → BullMQ → the audit-writer's worker → PostgreSQL), the gateway's rate limiter and
 * budget counters, and the introspection cache's revocation channel. See docs/operations.md,
 * "Past one machine".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { Redis, type Cluster } from 'ioredis';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { auditSchemaMigrations, createAuditWriter } from '@cloud-stack/audit-store';
import { revocationChannel, uuidv7, type AuditEvent } from '@cloud-stack/contracts';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { ANONYMOUS, budgetMigrations, BudgetStore, buildStageRuns, rateLimitStage, runStages, type BudgetSchema, type GatewayContext } from '@cloud-stack/gateway-pipeline';
import { RouteSpecSchema } from '@cloud-stack/gateway-routing';
import { createIdentityClient, tokenHash } from '@cloud-stack/identity-client';
import { createLogger, HttpProblem } from '@cloud-stack/service-kit';
import { useTestDatabase } from '@cloud-stack/test-kit';
import { startRedisCluster, type LocalRedisCluster } from './support/redis-cluster';

const database = useTestDatabase('redis_cluster');
const logger = createLogger('redis-cluster-test', 'silent');
let cluster: LocalRedisCluster;
let db: Kysely<unknown>;
const clients: Cluster[] = [];
const connect = () => {
  const client = cluster.client();
  clients.push(client);
  return client;
};

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

/** A request context as the gateway handler builds it, with a response that records headers. */
function context(routeSpec: Record<string, unknown>, sub: string): GatewayContext & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    headers,
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
    subject: { ...ANONYMOUS, sub, authenticated: true },
    budget: null,
    decision: null,
    sandbox: false,
    charged: 0,
    errorCode: null,
    upstream: null,
    socketStatus: null,
  };
}

describe("the gateway's Redis state on a Redis Cluster", () => {
  it('rate-limits per minute and per hour in one script: both keys share a hash slot', async () => {
    const client = connect();
    // The stage is typed for a single Redis; a Cluster client offers the same commands.
    const stage = rateLimitStage({ redis: client as unknown as Redis, prefix: 'gw:' });
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
    const keys = (await Promise.all(client.nodes('master').map((node) => node.keys('gw:rl:*')))).flat();
    expect(keys).toHaveLength(2);
    expect(new Set(await Promise.all(keys.map((k) => slotOf(client, k)))).size).toBe(1);
  });

  it('keeps budget counters for many agents and flushes them to PostgreSQL', async () => {
    const budgets = new BudgetStore({ db: db as unknown as Kysely<BudgetSchema>, redis: connect() as unknown as Redis, prefix: 'gw:', logger, flushMs: 3_600_000 });
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

  it("evicts a cached introspection answer when identity publishes the revocation on another node", async () => {
    let asked = 0;
    const identity: Server = createServer((_req, res) => {
      asked++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ active: true, sub: 'u1', jti: 'jti-1', exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) }));
    });
    await new Promise<void>((r) => identity.listen(0, '127.0.0.1', r));
    const port = (identity.address() as { port: number }).port;
    const [first, , last] = cluster.nodes;
    let publisher: Redis | undefined;
    const client = createIdentityClient({
      url: `http://127.0.0.1:${port}`,
      clientId: 'gateway',
      clientSecret: 'secret',
      revocations: { redisUrl: `redis://${first!.host}:${first!.port}`, prefix: 'cs:' },
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
