import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { useTestDatabase } from '@cloud-stack/test-kit';
import {
  createRouteStore,
  gatewayRoutingMigrations,
  RouteValidationError,
  RoutingError,
  type GatewayRoutingDatabase,
  type RouteStore,
} from '../src/index';

const database = useTestDatabase('gw_routing_store');
let db: Kysely<GatewayRoutingDatabase>;
let store: RouteStore;

beforeAll(async () => {
  db = createDb<GatewayRoutingDatabase>(database.url, { max: 4 });
  await migrateToLatest(db as unknown as Kysely<unknown>, gatewayRoutingMigrations);
  store = createRouteStore(db);
});
afterAll(async () => {
  await db.destroy();
});

const agents = { id: 'agents.execute', path: '/api/agents/{id}/execute', methods: ['POST' as const], upstream: 'http://agents.test', permission: 'agent:execute' };
const health = { id: 'health', path: '/health', upstream: 'http://agents.test', stages: [] };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('RouteStore', () => {
  it('creates a draft with schema defaults filled in and stores every field', async () => {
    const draft = await store.createDraft({ routes: [agents], note: 'first', createdBy: 'u1' });
    expect(draft).toMatchObject({ status: 'draft', source: 'admin', note: 'first', created_by: 'u1', parent_version: null, route_count: 1 });
    const full = {
      ...agents,
      id: 'full',
      product: 'agents',
      hosts: ['api.example.com', '*.example.org:8443'],
      sandbox_upstream: 'http://sandbox.test/base',
      strip_prefix: '/api',
      stages: ['auth', 'audit'],
      requires_governor: true,
      cost: 2.5,
      rate_limit: { per_minute: 10, per_hour: 100 },
      policy: 'gateway/authz/decision',
      timeout_ms: 1500,
      failure: { policy: 'open', rate_limit: 'closed', budget: 'open' },
      cors_origins: ['https://app.example.com'],
      websocket: false,
    } as const;
    await store.upsertRoute(draft.version, full);
    const read = await store.getVersion(draft.version);
    expect(read.routes.map((r) => r.id)).toEqual(['agents.execute', 'full']);
    expect(read.routes[1]).toEqual(full);
    expect(read.routes[0]).toMatchObject({ hosts: [], stages: ['auth', 'policy', 'rate_limit', 'budget', 'audit'], timeout_ms: 30_000, product: null });
  });

  it('reports each invalid field with its path', async () => {
    const err = await rejection(store.createDraft({ routes: [agents, { ...health, path: 'no-slash', hosts: ['Bad Host'] }, agents] }));
    expect(err).toBeInstanceOf(RouteValidationError);
    const paths = (err as RouteValidationError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['routes[1].path', 'routes[1].hosts[0]', 'routes[2].id']));
  });

  it('rejects a misspelt field instead of dropping it', async () => {
    const draft = await store.createDraft({ routes: [agents] });
    const err = await rejection(store.upsertRoute(draft.version, { ...health, permision: 'x' }));
    expect((err as RouteValidationError).issues[0]!.message).toMatch(/permision/);
  });

  it('activates a version, retires the live one and rolls back to it', async () => {
    const v1 = await store.createDraft({ routes: [agents] });
    const v2 = await store.createDraft({ from: v1.version });
    await store.upsertRoute(v2.version, health);
    expect(await store.activate(v1.version)).toMatchObject({ version: v1.version, changed: true });
    const act = await store.activate(v2.version);
    expect(act).toEqual({ version: v2.version, previous: v1.version, changed: true });
    expect((await store.getVersion(v1.version)).status).toBe('retired');
    expect((await store.getActive())!.version).toBe(v2.version);

    expect(await store.rollback()).toEqual({ version: v1.version, previous: v2.version, changed: true });
    expect((await store.getActive())!.routes.map((r) => r.id)).toEqual(['agents.execute']);
    // A second rollback returns to the version the first one left.
    expect((await store.rollback()).version).toBe(v2.version);
  });

  it('keeps active and retired versions read-only, also against direct SQL', async () => {
    const v = await store.createDraft({ routes: [agents] });
    await store.activate(v.version);
    const err = await rejection(store.upsertRoute(v.version, health));
    expect(err).toMatchObject({ code: 'version_not_editable' });
    expect(await rejection(store.deleteRoute(v.version, 'agents.execute'))).toMatchObject({ code: 'version_not_editable' });
    await expect(sql`DELETE FROM gateway_routes WHERE route_version = ${v.version}`.execute(db)).rejects.toThrow(/not a draft/);
  });

  it('allows exactly one active version in the database', async () => {
    const v = await store.createDraft({ routes: [agents] });
    await store.activate(v.version);
    const other = await store.createDraft({ routes: [agents] });
    await expect(
      sql`UPDATE gateway_route_versions SET status = 'active', activated_at = now() WHERE version = ${other.version}`.execute(db),
    ).rejects.toThrow(/gateway_route_versions_one_active/);
  });

  it('serializes concurrent activations: one version ends up live', async () => {
    const drafts = await Promise.all([1, 2, 3, 4].map(() => store.createDraft({ routes: [agents] })));
    await Promise.all(drafts.map((d) => store.activate(d.version)));
    const active = await store.listVersions({ status: 'active' });
    expect(active).toHaveLength(1);
  });

  it('refuses to activate an empty version', async () => {
    const empty = await store.createDraft({ routes: [] });
    expect(await rejection(store.activate(empty.version))).toBeInstanceOf(RouteValidationError);
  });

  it('deletes a route from a draft and says when there is none', async () => {
    const d = await store.createDraft({ routes: [agents, health] });
    await store.deleteRoute(d.version, 'health');
    expect((await store.getVersion(d.version)).routes.map((r) => r.id)).toEqual(['agents.execute']);
    expect(await rejection(store.deleteRoute(d.version, 'health'))).toMatchObject({ code: 'route_not_found' });
  });

  it('reports an upsert as created or replaced', async () => {
    const d = await store.createDraft({ routes: [agents] });
    expect((await store.upsertRoute(d.version, health)).created).toBe(true);
    expect((await store.upsertRoute(d.version, { ...health, cost: 3 })).created).toBe(false);
  });

  it('diffs two versions by route id and field, ignoring the order of set-like lists', async () => {
    const a = await store.createDraft({ routes: [agents, health, { ...health, id: 'gone', methods: ['GET', 'POST'] }] });
    const b = await store.createDraft({
      routes: [{ ...agents, permission: 'agent:run', timeout_ms: 5000 }, health, { ...health, id: 'new' }],
    });
    const diff = await store.diff(a.version, b.version);
    expect(diff.added.map((r) => r.id)).toEqual(['new']);
    expect(diff.removed.map((r) => r.id)).toEqual(['gone']);
    expect(diff.changed).toEqual([
      { id: 'agents.execute', fields: { permission: { from: 'agent:execute', to: 'agent:run' }, timeout_ms: { from: 30_000, to: 5000 } } },
    ]);
    const c = await store.createDraft({ routes: [agents, health, { ...health, id: 'gone', methods: ['POST', 'GET'] }] });
    expect((await store.diff(a.version, c.version)).changed).toEqual([]);
  });

  it('applies a route file as a draft whose parent is the live version', async () => {
    const live = await store.getActive();
    const draft = await store.applyFile(
      'products:\n  - name: agents\n    upstream: http://agents.test\n    routes:\n      - { id: f.one, path: /one, methods: [GET], permission: "x:read" }\n',
      { createdBy: 'ops' },
    );
    expect(draft).toMatchObject({ source: 'file', created_by: 'ops', parent_version: live!.version, route_count: 1 });
    expect(draft.routes[0]).toMatchObject({ product: 'agents', upstream: 'http://agents.test', permission: 'x:read' });
  });

  it('lists versions newest first with their route counts, filtered by status and source', async () => {
    const list = await store.listVersions({ source: 'file' });
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((v) => v.source === 'file' && v.route_count === 1)).toBe(true);
    const all = await store.listVersions();
    expect(all.map((v) => v.version)).toEqual([...all.map((v) => v.version)].sort((x, y) => y - x));
  });

  it('says when a version does not exist', async () => {
    const err = await rejection(store.getVersion(999_999));
    expect(err).toBeInstanceOf(RoutingError);
    expect(err).toMatchObject({ code: 'version_not_found' });
  });
});
