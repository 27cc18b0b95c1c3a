import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { createLogger } from '@cloud-stack/service-kit';
import { useTestDatabase } from '@cloud-stack/test-kit';
import {
  createRouteStore,
  gatewayRoutingMigrations,
  openRouteTable,
  type GatewayRoutingDatabase,
  type RouteStore,
  type RouteTable,
  type RouteTableChange,
} from '../src/index';

const database = useTestDatabase('gw_routing_table');
const logger = createLogger('route-table-test', 'silent');
let db: Kysely<GatewayRoutingDatabase>;
let store: RouteStore;
const tables: RouteTable[] = [];

// An hour: within a test only a notification (or a reconnection) can bring a change.
const NO_POLL = 3_600_000;

async function open(pollMs = NO_POLL): Promise<RouteTable> {
  const table = await openRouteTable({ db, databaseUrl: database.url, logger, pollMs });
  tables.push(table);
  return table;
}

const route = (id: string, path: string) => ({ id, path, upstream: 'http://up.test' });

async function publish(...routes: ReturnType<typeof route>[]): Promise<number> {
  const draft = await store.createDraft({ routes });
  await store.activate(draft.version);
  return draft.version;
}

beforeAll(async () => {
  db = createDb<GatewayRoutingDatabase>(database.url, { max: 4 });
  await migrateToLatest(db as unknown as Kysely<unknown>, gatewayRoutingMigrations);
  store = createRouteStore(db);
});
afterAll(async () => {
  for (const t of tables) await t.close();
  await db.destroy();
});

describe('openRouteTable', () => {
  it('matches nothing before the first activation', async () => {
    const table = await open();
    expect(table.version()).toBeNull();
    expect(table.match('GET', 'x', '/a')).toEqual({ kind: 'none' });
  });

  it('loads the active version when it opens', async () => {
    const v = await publish(route('a', '/a'));
    const table = await open();
    expect(table.version()).toBe(v);
    expect(table.match('GET', 'x', '/a')).toMatchObject({ kind: 'route', version: v, route: { id: 'a' } });
    expect(table.routes().map((r) => r.id)).toEqual(['a']);
  });

  it('brings a new version to two tables on one database through NOTIFY', async () => {
    const [first, second] = [await open(), await open()];
    const seen: RouteTableChange[] = [];
    first.onChange((c) => seen.push(c));
    const before = first.version();
    const v = await publish(route('b', '/b'));
    // Polling is off, so only the notification can bring it (the wait is generous for a loaded CI machine).
    await vi.waitFor(
      () => {
        expect(first.version()).toBe(v);
        expect(second.version()).toBe(v);
      },
      { timeout: 5_000 },
    );
    expect(second.match('GET', 'x', '/b')).toMatchObject({ kind: 'route', route: { id: 'b' } });
    expect(second.match('GET', 'x', '/a')).toEqual({ kind: 'none' });
    expect(seen).toEqual([{ version: v, previous: before, routes: [expect.objectContaining({ id: 'b' })] }]);
  });

  it('switches back on rollback', async () => {
    const table = await open();
    const live = table.version();
    const v = await publish(route('c', '/c'));
    await vi.waitFor(() => expect(table.version()).toBe(v), { timeout: 5_000 });
    await store.rollback();
    await vi.waitFor(() => expect(table.version()).toBe(live), { timeout: 5_000 });
  });

  it('re-reads after its notification connection is cut, catching up on what it missed', async () => {
    const table = await open();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gateway-route-table'`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // Published while the table's listener is (probably) down: the re-read on reconnection brings it.
    const v = await publish(route('d', '/d'));
    await vi.waitFor(() => expect(table.version()).toBe(v), { timeout: 10_000 });
    // And notifications flow again on the new connection.
    const w = await publish(route('e', '/e'));
    await vi.waitFor(() => expect(table.version()).toBe(w), { timeout: 10_000 });
  });

  it('picks up a change by polling when no notification arrives', async () => {
    const table = await open(50);
    // Bypass NOTIFY entirely: flip the active version with plain SQL.
    const draft = await store.createDraft({ routes: [route('f', '/f')] });
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('gateway_route_versions').set({ status: 'retired', retired_at: new Date() }).where('status', '=', 'active').execute();
      await trx.updateTable('gateway_route_versions').set({ status: 'active', activated_at: new Date() }).where('version', '=', draft.version).execute();
    });
    await vi.waitFor(() => expect(table.version()).toBe(draft.version), { timeout: 5_000 });
  });

  it('closes its notification connection', async () => {
    const listeners = async () => {
      const r = await db
        .selectFrom(sql<{ application_name: string }>`pg_stat_activity`.as('a'))
        .select(sql<number>`count(*)::int`.as('n'))
        .where(sql<boolean>`datname = current_database() AND application_name = 'gateway-route-table'`)
        .executeTakeFirstOrThrow();
      return r.n;
    };
    const table = await open();
    const before = await listeners();
    await table.close();
    await vi.waitFor(async () => expect(await listeners()).toBe(before - 1), { timeout: 5_000 });
  });
});
