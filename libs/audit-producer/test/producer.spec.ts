import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { auditBatchEvents, AuditBatchSchema, uuidv7, type AuditEventInput } from '@cloud-stack/contracts';
import { MetricsRegistry } from '@cloud-stack/service-kit';
import { useRedisPrefix } from '@cloud-stack/test-kit';
import { createAuditProducer } from '../src/index';
import { startReplyGate } from './reply-gate';

declare module 'vitest' {
  interface ProvidedContext {
    redisUrl: string;
  }
}

const redis = useRedisPrefix('audit-producer');
const turn = () => new Promise<void>((r) => setImmediate(r));
const queues: Queue[] = [];
afterAll(async () => {
  for (const q of queues) await q.close();
});

function openQueue(name: string): Queue {
  const q = new Queue(name, { connection: { url: redis.url }, prefix: redis.prefix });
  queues.push(q);
  return q;
}

const event = (i: number): AuditEventInput => ({
  event_id: uuidv7(),
  occurred_at: new Date().toISOString(),
  correlation_id: `c-${i}`,
  causation_id: null,
  trace_id: null,
  tenant_id: 't',
  user_id: null,
  client_id: null,
  agent_id: null,
  route_id: null,
  method: 'GET',
  host: 'h',
  path: '/',
  status: 200,
  duration_ms: 1,
  decision: null,
  sandbox_routed: false,
  trial_mode: false,
  upstream: null,
  ip: null,
  user_agent: null,
  error_code: null,
});

describe('the audit producer', () => {
  it('groups events into few jobs whose id is the batch id', async () => {
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'group', maxBatch: 100, lingerMs: 20 });
    for (let i = 0; i < 250; i++) expect(producer.emit(event(i))).toBe(true);
    await producer.close();
    const jobs = await openQueue('group').getJobs(['waiting']);
    expect(jobs.map((j) => j.data.events!.length).sort()).toEqual([100, 100, 50]);
    for (const j of jobs) {
      const batch = AuditBatchSchema.parse(j.data);
      expect(j.id).toBe(batch.batch_id);
      expect(j.opts.attempts).toBeGreaterThan(1);
      expect(j.opts.removeOnComplete).toEqual({ count: 1000 });
    }
    expect(producer.stats()).toEqual({ emitted: 250, enqueued: 250, dropped: 0, pending: 0 });
  });

  it('deflates the events of a job when asked (events_deflated), and they read back as emitted', async () => {
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'deflated', deflate: true });
    const events = [0, 1, 2].map(event);
    for (const e of events) producer.emit(e);
    // An event another thread encoded joins the same job as it is; what is not an event's JSON is refused and counted.
    const encoded = { ...event(3), path: '/v1/東京' };
    expect(producer.emitEncoded(JSON.stringify(encoded))).toBe(true);
    expect(producer.emitEncoded('"not an object"')).toBe(false);
    await producer.close();
    const jobs = await openQueue('deflated').getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    const batch = AuditBatchSchema.parse(jobs[0]!.data);
    expect(batch.events).toBeUndefined();
    expect(auditBatchEvents(batch)).toEqual([...events, encoded]);
    expect(producer.stats()).toEqual({ emitted: 4, enqueued: 4, dropped: 1, pending: 0 });
    // A producer that sends plain events has no use for encoded ones.
    const plain = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'plain' });
    expect(() => plain.emitEncoded(JSON.stringify(encoded))).toThrow(/deflate/);
    await plain.close();
  });

  it('sends what one turn of the event loop emitted as one job, and confirms each event once that job is in Redis', async () => {
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'turn' });
    const confirmations = [0, 1, 2].map((i) => producer.emitAndConfirm(event(i)));
    expect(new Set(confirmations).size).toBe(1);
    expect(await confirmations[0]).toBe(true);
    // Confirmed means stored: the job is there before anything else is awaited.
    const jobs = await openQueue('turn').getJobs(['waiting']);
    expect(jobs.map((j) => j.data.events!.map((e: AuditEventInput) => e.correlation_id))).toEqual([['c-0', 'c-1', 'c-2']]);
    await producer.close();
  });

  it('gathers the next batch behind the add on the wire, and confirms nothing Redis has not answered', async () => {
    const gate = await startReplyGate(redis.url);
    const producer = createAuditProducer({ connection: gate.url, prefix: redis.prefix, queueName: 'wire' });
    try {
      expect(await producer.emitAndConfirm(event(0))).toBe(true);
      gate.hold();
      const settled: boolean[] = [];
      const first = producer.emitAndConfirm(event(1));
      void first.then((ok) => settled.push(ok));
      await turn();
      const behind: Promise<boolean>[] = [];
      for (let i = 2; i < 6; i++) {
        behind.push(producer.emitAndConfirm(event(i)));
        await turn();
      }
      expect(new Set(behind).size).toBe(1);
      expect(settled).toEqual([]);
      expect(producer.stats().pending).toBe(5);
      gate.release();
      expect(await Promise.all([first, ...behind])).toEqual([true, true, true, true, true]);
      const jobs = await openQueue('wire').getJobs(['waiting']);
      expect(jobs.map((j) => j.data.events!.length).sort()).toEqual([1, 1, 4]);
    } finally {
      await producer.close();
      await gate.close();
    }
  });

  it('waits for coming events (up to gatherMs) so that they share one job, and sends a lone event after one turn', async () => {
    let coming = 0;
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'coming', coming: () => coming, gatherMs: 10_000 });
    try {
      // Nothing coming: one turn, as without the option.
      expect(await producer.emitAndConfirm(event(0))).toBe(true);
      coming = 3;
      const confirmations: Promise<boolean>[] = [];
      for (let i = 1; i <= 3; i++) {
        coming--;
        confirmations.push(producer.emitAndConfirm(event(i)));
        // Several turns between requests' ends: the batch still waits while one is coming.
        for (let t = 0; t < 5; t++) await turn();
        if (coming > 0) expect(producer.stats().pending).toBe(i);
      }
      expect(await Promise.all(confirmations)).toEqual([true, true, true]);
      // The wait is bounded: a request that never ends delays its siblings by gatherMs at most.
      const bounded = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'coming', coming: () => 1, gatherMs: 30 });
      const started = Date.now();
      expect(await bounded.emitAndConfirm(event(4))).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(25);
      await bounded.close();
      const jobs = await openQueue('coming').getJobs(['waiting']);
      expect(jobs.map((j) => j.data.events!.length).sort()).toEqual([1, 1, 3]);
    } finally {
      await producer.close();
    }
  });

  it('bounds its buffer: overflow and invalid events are refused, counted and logged', async () => {
    const metrics = new MetricsRegistry();
    const logged: unknown[] = [];
    const logger = { warn: () => undefined, error: (obj: unknown) => void logged.push(obj) };
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'bounded', maxBuffered: 10, lingerMs: 50, metrics, logger: logger as never });
    const accepted = Array.from({ length: 15 }, (_, i) => producer.emit(event(i))).filter(Boolean).length;
    expect(accepted).toBe(10);
    expect(producer.emit({ ...event(99), event_id: 'nope' })).toBe(false);
    expect(await producer.emitAndConfirm(event(100))).toBe(false);
    await producer.close();
    expect(producer.stats()).toMatchObject({ emitted: 10, enqueued: 10, dropped: 7 });
    const text = metrics.render();
    expect(text).toMatch(/audit_producer_events_dropped_total\{reason="overflow"\} 6/);
    expect(text).toMatch(/audit_producer_events_dropped_total\{reason="invalid"\} 1/);
    // The ten accepted events went in one job (lingerMs 50).
    expect(text).toMatch(/^audit_producer_events_enqueued_total 10$/m);
    expect(text).toMatch(/^audit_producer_jobs_added_total 1$/m);
    expect(logged.length).toBeGreaterThanOrEqual(2);
  });

  it('carries the active W3C trace context in the job', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const spanContext = { traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, queueName: 'traced', lingerMs: 1 });
    context.with(trace.setSpanContext(context.active(), spanContext), () => producer.emit(event(1)));
    await producer.close();
    const [job] = await openQueue('traced').getJobs(['waiting']);
    expect(job!.data.traceparent).toBe(`00-${traceId}-b7ad6b7169203331-01`);
  });
});
