import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { AUDIT_DETAILS_MAX_BYTES, deflateAuditEvents, uuidv7 } from '@cloud-stack/contracts';
import { sql, type Kysely } from '@cloud-stack/db';
import { createAuditProducer, type AuditProducer } from '@cloud-stack/audit-producer';
import { MetricsRegistry } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { createAuditWriter, listAuditPartitions, type AuditWriter } from '../../src/index';
import { event, eventually, openWriteDb, quietLogger } from './helpers';

const testDb = useTestDatabase('audit_writer');
const redis = useRedisPrefix('audit-writer');
let db: Kysely<unknown>;
let writer: AuditWriter;
let producer: AuditProducer;
const metrics = new MetricsRegistry();

beforeAll(async () => {
  db = await openWriteDb(testDb.url);
  writer = createAuditWriter({ db, connection: { url: redis.url }, prefix: redis.prefix, batchSize: 200, flushMs: 10, logger: quietLogger(), metrics });
  producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, lingerMs: 2 });
});
afterAll(async () => {
  await producer?.close();
  await writer?.close();
  await db?.destroy();
});

const rowsOf = async (id: string) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE event_id = ${id}::uuid`.execute(db)).rows[0]!.n;

describe('the audit writer', () => {
  it('stores every field of an event once, with ingested_at and seq', async () => {
    const e = event({ causation_id: 'cause-1', trace_id: 'a'.repeat(32), agent_id: 'agent-7', error_code: 'upstream_timeout', decision: null });
    producer.emit(e);
    await producer.flush();
    await eventually(async () => (await rowsOf(e.event_id)) === 1);
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM audit_events WHERE event_id = ${e.event_id}::uuid`.execute(db);
    const row = rows[0]!;
    expect(row).toMatchObject({ correlation_id: e.correlation_id, causation_id: 'cause-1', trace_id: e.trace_id, agent_id: 'agent-7', decision: null, error_code: 'upstream_timeout', status: 200, category: 'request' });
    expect((row.occurred_at as Date).toISOString()).toBe(e.occurred_at);
    expect(row.ingested_at).toBeInstanceOf(Date);
    expect(Number(row.seq)).toBeGreaterThan(0);
  });

  it('writes an event enqueued twice (even with another occurred_at) only once', async () => {
    const e = event();
    const queue = new Queue('audit', { connection: { url: redis.url }, prefix: redis.prefix });
    await queue.add('batch', { batch_id: uuidv7(), events: [e] }, { jobId: uuidv7() });
    await queue.add('batch', { batch_id: uuidv7(), events: [e, e] }, { jobId: uuidv7() });
    const later = { ...e, occurred_at: new Date(Date.now() + 40 * 86_400_000).toISOString() };
    const last = await queue.add('batch', { batch_id: uuidv7(), events: [later] }, { jobId: uuidv7() });
    await eventually(async () => (await last.getState()) === 'completed');
    await queue.close();
    expect(await rowsOf(e.event_id)).toBe(1);
    expect(writer.stats().duplicates).toBeGreaterThanOrEqual(3);
  });

  it('dead-letters an invalid event with the reason and stores the rest of its batch', async () => {
    const good = event();
    const bad = { ...event(), status: 'teapot' };
    const queue = new Queue('audit', { connection: { url: redis.url }, prefix: redis.prefix });
    const job = await queue.add('batch', { batch_id: uuidv7(), events: [good, bad] }, { jobId: uuidv7() });
    const garbage = await queue.add('batch', { nonsense: true }, { jobId: uuidv7() });
    await eventually(async () => (await job.getState()) === 'completed' && (await garbage.getState()) === 'completed');
    await queue.close();
    expect(await rowsOf(good.event_id)).toBe(1);
    const { rows } = await sql<{ event_id: string; reason: string; payload: string; job_id: string }>`SELECT event_id, reason, payload, job_id FROM audit_dead_letters ORDER BY id`.execute(db);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ event_id: bad.event_id, job_id: job.id });
    expect(rows[0]!.reason).toMatch(/^invalid event: status:/);
    expect(JSON.parse(rows[0]!.payload)).toEqual(bad);
    expect(rows[1]!.reason).toMatch(/^invalid batch/);
    expect(await metrics.render()).toMatch(/audit_writer_dead_letters_total\{reason="validation"\} 2/);
  });

  it('stores the events of a deflated batch, and dead-letters one whose events_deflated does not inflate', async () => {
    const events = [event(), event()];
    const queue = new Queue('audit', { connection: { url: redis.url }, prefix: redis.prefix });
    const deflated = await queue.add('batch', { batch_id: uuidv7(), events_deflated: deflateAuditEvents(events.map((e) => JSON.stringify(e))) }, { jobId: uuidv7() });
    const broken = await queue.add('batch', { batch_id: uuidv7(), events_deflated: 'bm90IGRlZmxhdGU=' }, { jobId: uuidv7() });
    await eventually(async () => (await deflated.getState()) === 'completed' && (await broken.getState()) === 'completed');
    await queue.close();
    for (const e of events) expect(await rowsOf(e.event_id)).toBe(1);
    const { rows } = await sql<{ reason: string }>`SELECT reason FROM audit_dead_letters WHERE job_id = ${broken.id!}`.execute(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.reason).toMatch(/^invalid batch: events_deflated: /);
  });

  it('stores an event\'s details end to end, and dead-letters details over the size bound', async () => {
    const details = { decision_log: { decision_id: 'd-9', path: 'gateway/authz/decision', input: { subject: { sub: 'u1' } }, result: { allow: false }, metrics: { timer_server_handler_ns: 1200 } } };
    const e = event({ category: 'policy_decision', details });
    const huge = event({ details: { blob: 'x'.repeat(AUDIT_DETAILS_MAX_BYTES) } });
    producer.emit(e);
    producer.emit(huge);
    await producer.flush();
    await eventually(async () => (await rowsOf(e.event_id)) === 1);
    const { rows } = await sql<{ details: unknown }>`SELECT details FROM audit_events WHERE event_id = ${e.event_id}::uuid`.execute(db);
    expect(rows[0]!.details).toEqual(details);
    expect((await sql<{ details: unknown }>`SELECT details FROM audit_events WHERE details IS NULL LIMIT 1`.execute(db)).rows).toHaveLength(1);

    const deadOf = async () => (await sql<{ reason: string }>`SELECT reason FROM audit_dead_letters WHERE event_id = ${huge.event_id}`.execute(db)).rows;
    await eventually(async () => (await deadOf()).length === 1);
    expect((await deadOf())[0]!.reason).toMatch(/^invalid event: details: must serialize to at most 65536 bytes/);
    expect(await rowsOf(huge.event_id)).toBe(0);
  });

  it('has monthly partitions from last month to three months ahead, and makes one for a far-off event', async () => {
    const parts = await listAuditPartitions(db);
    const now = new Date();
    const month = (k: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1)).toISOString();
    for (const k of [-1, 0, 1, 2, 3]) expect(parts.some((p) => p.from === month(k) && p.to === month(k + 1))).toBe(true);

    const old = event({ occurred_at: new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), 15)).toISOString() });
    producer.emit(old);
    await producer.flush();
    await eventually(async () => (await rowsOf(old.event_id)) === 1);
    expect((await listAuditPartitions(db)).some((p) => p.from === month(-12))).toBe(true);
  });

  it('lets a tenant session see only its own rows, the platform auditor all, the writer none', async () => {
    const a = event({ tenant_id: 'rls-a' });
    const b = event({ tenant_id: 'rls-b' });
    producer.emit(a);
    producer.emit(b);
    await producer.flush();
    await eventually(async () => (await rowsOf(a.event_id)) + (await rowsOf(b.event_id)) === 2);

    const asRole = <T>(role: string, tenant: string, fn: (trx: Kysely<unknown>) => Promise<T>) =>
      db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('role', ${role}, true), set_config('app.tenant_id', ${tenant}, true)`.execute(trx);
        return fn(trx);
      });
    const tenants = (trx: Kysely<unknown>) =>
      sql<{ tenant_id: string }>`SELECT DISTINCT tenant_id FROM audit_events WHERE tenant_id IN ('rls-a', 'rls-b') ORDER BY 1`.execute(trx).then((r) => r.rows.map((x) => x.tenant_id));

    expect(await asRole('audit_reader', 'rls-a', tenants)).toEqual(['rls-a']);
    expect(await asRole('audit_reader', 'rls-b', tenants)).toEqual(['rls-b']);
    expect(await asRole('audit_reader', '', tenants)).toEqual([]);
    expect(await asRole('audit_platform_auditor', '', tenants)).toEqual(['rls-a', 'rls-b']);
    await expect(asRole('audit_writer', '', tenants)).rejects.toThrow(/permission denied/);
    // the writer role can run the writer's statement
    const c = event({ tenant_id: 'rls-c' });
    const { insertAuditEvents } = await import('../../src/index');
    expect(await asRole('audit_writer', '', (trx) => insertAuditEvents(trx, [c]))).toEqual({ written: 1, duplicates: 0 });
  });
});

describe('trace continuity', () => {
  // OpenTelemetry's globals can be registered once per process: one provider for these tests.
  let exporter: import('@opentelemetry/sdk-trace-base').InMemorySpanExporter;
  let otel: typeof import('@opentelemetry/api');
  beforeAll(async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    otel = await import('@opentelemetry/api');
    exporter = new InMemorySpanExporter();
    otel.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  const writeSpanOf = (traceId: string) => exporter.getFinishedSpans().find((s) => s.name === 'audit.write' && s.spanContext().traceId === traceId);

  it('makes the write span a child of the span that emitted the events', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const queue = new Queue('audit', { connection: { url: redis.url }, prefix: redis.prefix });
    const job = await queue.add('batch', { batch_id: uuidv7(), events: [event()], traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, { jobId: uuidv7() });
    await eventually(async () => (await job.getState()) === 'completed');
    await queue.close();
    expect(writeSpanOf(traceId)?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('links the write span to the spans that emitted the batch’s other events', async () => {
    const { context, trace, TraceFlags } = otel;
    // Three requests, three traces, one batch: the producer keeps each emitting span.
    const traces = ['11111111111111111111111111111111', '22222222222222222222222222222222', '33333333333333333333333333333333'];
    const spans = ['1111111111111111', '2222222222222222', '3333333333333333'];
    const linked = createAuditProducer({ connection: redis.url, prefix: redis.prefix, lingerMs: 50 });
    traces.forEach((traceId, i) => {
      const ctx = trace.setSpanContext(context.active(), { traceId, spanId: spans[i]!, traceFlags: TraceFlags.SAMPLED });
      context.with(ctx, () => linked.emit(event()));
    });
    await linked.close();

    await eventually(async () => writeSpanOf(traces[0]!) !== undefined);
    const span = writeSpanOf(traces[0]!)!;
    expect(span.parentSpanContext?.spanId).toBe(spans[0]);
    expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [traces[1], spans[1]],
      [traces[2], spans[2]],
    ]);
  });
});

describe('partitions for out-of-window events', () => {
  it('creates only the months the events need, not every month in between', async () => {
    const far = event({ occurred_at: '2031-06-15T10:00:00.000Z' });
    const offset = event({ occurred_at: '2029-01-31T23:30:00-05:00' }); // February in UTC
    producer.emit(far);
    producer.emit(offset);
    await producer.flush();
    await eventually(async () => (await rowsOf(far.event_id)) + (await rowsOf(offset.event_id)) === 2);
    const names = (await listAuditPartitions(db)).map((p) => p.name);
    expect(names).toContain('audit_events_2031_06');
    expect(names).toContain('audit_events_2029_02');
    expect(names).not.toContain('audit_events_2030_01');
    expect(names).not.toContain('audit_events_2029_01');
  });
});
