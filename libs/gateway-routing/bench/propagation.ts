/**
 * Route change propagation: time from `activate()` returning to the new version being live in
 * each of N route tables on one database (NOTIFY path; polling off). Needs PostgreSQL
 * (DATABASE_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres); prints the median
 * and worst of the runs, then one JSON line.
 *
 *   npx tsx libs/gateway-routing/bench/propagation.ts     (BENCH_TABLES=4 BENCH_RUNS=20)
 */
import { createDb, createTestDatabase, migrateToLatest, type Kysely } from '@cloud-stack/db';
import { createLogger } from '@cloud-stack/service-kit';
import { createRouteStore, gatewayRoutingMigrations, openRouteTable, type GatewayRoutingDatabase, type RouteTable } from '../src/index';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TABLES = Number(process.env.BENCH_TABLES ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

const database = await createTestDatabase(ADMIN_URL, 'bench_routes');
const db = createDb<GatewayRoutingDatabase>(database.url, { max: 4 });
const tables: RouteTable[] = [];
try {
  await migrateToLatest(db as unknown as Kysely<unknown>, gatewayRoutingMigrations);
  const store = createRouteStore(db);
  const logger = createLogger('bench', 'silent');
  for (let i = 0; i < TABLES; i++) tables.push(await openRouteTable({ db, databaseUrl: database.url, logger, pollMs: 3_600_000 }));
  const latencies: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const draft = await store.createDraft({ routes: [{ id: `r${run}`, path: `/r/${run}`, upstream: 'http://up.test' }] });
    const seen = tables.map((t) => new Promise<number>((resolve) => {
      const off = t.onChange((c) => {
        if (c.version !== draft.version) return;
        off();
        resolve(performance.now());
      });
    }));
    await store.activate(draft.version);
    const committed = performance.now();
    const times = await Promise.all(seen);
    latencies.push(Math.max(...times) - committed);
  }
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)]!;
  const worst = latencies[latencies.length - 1]!;
  console.log(`${TABLES} tables, ${RUNS} activations: all tables live after median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
  console.log(JSON.stringify({ bench: 'gateway-routing-propagation', tables: TABLES, runs: RUNS, median_ms: Number(median.toFixed(2)), worst_ms: Number(worst.toFixed(2)) }));
} finally {
  for (const t of tables) await t.close();
  await db.destroy();
  await database.drop();
}
