/**
 * Audit write-path benchmark. In one run, on a fresh database:
 *  1. the ceiling: one connection bulk-loading batches of 1000 events into audit_events — bare
 *     COPY FROM STDIN (no dedupe), and the writer's own statement (unnest + audit_event_ids dedupe);
 *  2. end to end: the shared producer emitting as fast as it can (this process) while the writer
 *     runs (a child process; 2 cores), counting durably written rows over time;
 * (the producer pauses only while more than BENCH_MAX_BACKLOG events wait in the queue),
 * then the ratio, a check that every emitted event was stored exactly once, and one JSON line.
 *
 *   npm run bench:audit     (BENCH_SECONDS=10 BENCH_CEILING_EVENTS=100000 by default)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { deletePrefix } from './redis';
import { uuidv7, type AuditEvent } from '@cloud-stack/contracts';
import { createDb, createTestDatabase, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { auditSchemaMigrations, insertAuditEvents } from '@cloud-stack/audit-store';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { copyEvents } from './audit-copy';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CEILING_EVENTS = Number(process.env.BENCH_CEILING_EVENTS ?? 100_000);
const BATCH = 1000;
/** The producer pauses while more events than this wait in the queue: past it, it only piles up work in Redis. */
const MAX_BACKLOG = Number(process.env.BENCH_MAX_BACKLOG ?? 50_000);

let n = 0;
function makeEvent(): AuditEvent {
  n++;
  return {
    event_id: uuidv7(),
    category: 'request',
    occurred_at: new Date().toISOString(),
    correlation_id: `01935c8e-7c1a-7000-8000-${String(n).padStart(12, '0')}`,
    causation_id: null,
    trace_id: '0af7651916cd43dd8448eb211c80319c',
    tenant_id: `tenant-${n % 50}`,
    user_id: `user-${n % 1000}`,
    client_id: 'console',
    agent_id: n % 10 === 0 ? 'agent-7' : null,
    route_id: 'cp.orders.list',
    method: 'GET',
    host: 'api.cloud-stack.test',
    path: `/v1/orders?page=${n % 20}`,
    status: n % 50 === 0 ? 403 : 200,
    duration_ms: 4.2,
    decision: { allow: n % 50 !== 0, reasons: n % 50 === 0 ? ['missing permission'] : [], policy: 'gateway/authz', decision_id: `d-${n}` },
    sandbox_routed: false,
    trial_mode: false,
    upstream: 'http://cp.internal:8080',
    ip: '10.1.2.3',
    user_agent: 'bench/1.0',
    error_code: null,
  };
}

const round = (x: number) => Math.round(x);
const count = async (db: Kysely<unknown>) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events`.execute(db)).rows[0]!.n;
const truncate = (db: Kysely<unknown>) => sql`TRUNCATE audit_events, audit_event_ids`.execute(db);

async function ceilingCopy(url: string, batches: AuditEvent[][]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = performance.now();
    for (const b of batches) await copyEvents(client, 'audit_events', b);
    return (batches.length * BATCH) / ((performance.now() - t0) / 1000);
  } finally {
    await client.end();
  }
}

async function ceilingStatement(url: string, batches: AuditEvent[][]): Promise<number> {
  const db = createDb<unknown>(url, { max: 1 });
  try {
    const t0 = performance.now();
    for (const b of batches) await insertAuditEvents(db, b);
    return (batches.length * BATCH) / ((performance.now() - t0) / 1000);
  } finally {
    await db.destroy();
  }
}

async function endToEnd(url: string, db: Kysely<unknown>, prefix: string) {
  const child = spawn(process.execPath, [...(process.env.BENCH_WRITER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', fileURLToPath(new URL('./audit-writer-process.ts', import.meta.url))], {
    env: { ...process.env, DATABASE_URL: url, REDIS_URL, QUEUE_PREFIX: prefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    while (!out.includes('ready')) {
      if (child.exitCode !== null) throw new Error('writer process exited early');
      await new Promise((r) => setTimeout(r, 50));
    }
    const producer = createAuditProducer({ connection: REDIS_URL, prefix, maxBatch: 500, lingerMs: 5, maxBuffered: 50_000 });
    const samples: Array<{ t: number; rows: number }> = [];
    let producing = true;
    let lastRows = 0;
    const sampler = (async () => {
      const t0 = performance.now();
      while (producing) {
        lastRows = await count(db);
        samples.push({ t: (performance.now() - t0) / 1000, rows: lastRows });
        await new Promise((r) => setTimeout(r, 250));
      }
      samples.push({ t: (performance.now() - t0) / 1000, rows: await count(db) });
    })();
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    // As fast as it can, but never past the producer's own bound (it would drop and count).
    while (performance.now() < end) {
      for (let i = 0; i < 200; i++) if (!producer.emit(makeEvent())) break;
      if (producer.stats().pending > 20_000 || producer.stats().emitted - lastRows > MAX_BACKLOG) await new Promise((r) => setTimeout(r, 2));
      else await new Promise((r) => setImmediate(r));
    }
    const produceSeconds = (performance.now() - t0) / 1000;
    await producer.close();
    producing = false;
    await sampler;
    const stats = producer.stats();
    // Durable rate over the steady window: from the first sample after 1 s to the end of production.
    const first = samples.find((s) => s.t >= 1) ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    const durable = (last.rows - first.rows) / (last.t - first.t);
    const deadline = Date.now() + 120_000;
    let rows = await count(db);
    while (rows < stats.enqueued && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      rows = await count(db);
    }
    return { durable, produced: stats.emitted / produceSeconds, stats, rows };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const database = await createTestDatabase(ADMIN_URL, 'bench_audit');
  const prefix = `bench-audit-${randomBytes(4).toString('hex')}`;
  const db = createDb<unknown>(database.url, { max: 2 });
  try {
    await migrateToLatest(db, auditSchemaMigrations);
    const batches = Array.from({ length: Math.ceil(CEILING_EVENTS / BATCH) }, () => Array.from({ length: BATCH }, makeEvent));
    console.log(`audit bench: ${batches.length * BATCH} events per ceiling, batches of ${BATCH}; ${SECONDS}s end to end`);

    const copy = await ceilingCopy(database.url, batches);
    await truncate(db);
    console.log(`ceiling  COPY FROM STDIN, 1 connection              ${round(copy)} events/s`);
    const fresh = batches.map((b) => b.map((e) => ({ ...e, event_id: uuidv7() })));
    const statement = await ceilingStatement(database.url, fresh);
    await truncate(db);
    console.log(`ceiling  writer statement (unnest + dedupe), 1 conn ${round(statement)} events/s`);

    const e2e = await endToEnd(database.url, db, prefix);
    console.log(`end to end: producer emitted ${round(e2e.produced)} events/s; durably written ${round(e2e.durable)} events/s`);
    console.log(`ratio: ${(e2e.durable / copy).toFixed(2)} of the COPY ceiling, ${(e2e.durable / statement).toFixed(2)} of the statement ceiling`);
    const exact = e2e.rows === e2e.stats.enqueued && e2e.stats.dropped === 0;
    console.log(`stored ${e2e.rows} of ${e2e.stats.emitted} emitted (${e2e.stats.dropped} dropped): ${exact ? 'exactly once' : 'MISMATCH'}`);
    console.log(
      JSON.stringify({
        bench: 'audit',
        ceiling_copy_eps: round(copy),
        ceiling_statement_eps: round(statement),
        producer_eps: round(e2e.produced),
        durable_eps: round(e2e.durable),
        ratio_to_copy: Number((e2e.durable / copy).toFixed(3)),
        ratio_to_statement: Number((e2e.durable / statement).toFixed(3)),
        events: e2e.stats.emitted,
        rows: e2e.rows,
        dropped: e2e.stats.dropped,
        exactly_once: exact,
      }),
    );
  } finally {
    await db.destroy();
    await database.drop();
    await deletePrefix(REDIS_URL, prefix);
  }
}

await main();
