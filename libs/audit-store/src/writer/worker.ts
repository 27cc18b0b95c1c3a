import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span } from '@opentelemetry/api';
import { AUDIT_BATCH_MAX_LINKS, AUDIT_QUEUE, auditBatchEvents, AuditBatchSchema, AuditEventSchema, type AuditEvent } from '@cloud-stack/contracts';
import type { Kysely } from '@cloud-stack/db';
import type { Logger, MetricsRegistry, ReadinessCheck } from '@cloud-stack/service-kit';
import { ensureAuditPartitions, ensurePartitionsBetween } from '../schema/partitions';
import { Batcher, type PendingJob } from './batcher';
import { insertDeadLetters, type DeadLetter } from './dead-letter';
import { classifyFailure, describeError } from './errors';
import { insertAuditEvents } from './insert';
import { redisPersistenceWarning, type RedisInfoClient } from './redis-persistence';

export interface AuditWriterOptions {
  readonly db: Kysely<unknown>;
  /** BullMQ connection: ioredis options (e.g. `{ url }`) or an ioredis instance. */
  readonly connection: ConnectionOptions;
  readonly prefix?: string;
  readonly queueName?: string;
  /** Jobs processed at once (AUDIT_CONCURRENCY); default 64. */
  readonly concurrency?: number;
  /** Events per statement (AUDIT_BATCH_SIZE); default 1000. */
  readonly batchSize?: number;
  /** Longest wait before a partial batch is written (AUDIT_FLUSH_MS); default 20. */
  readonly flushMs?: number;
  /** Statements in flight at once; default 2. */
  readonly parallelFlushes?: number;
  /**
   * BullMQ lock of an active job (AUDIT_LOCK_DURATION_MS), renewed every quarter to half of it
   * while the job is held, so it must outlast the longest event-loop or Redis stall, not a write.
   * A crashed writer's jobs become redeliverable once it expires. Default 15 000.
   */
  readonly lockDurationMs?: number;
  /**
   * How often stalled jobs are looked for (AUDIT_STALLED_INTERVAL_MS). A check moves back the
   * jobs that the previous check saw active and whose lock has gone since, so a crashed writer's
   * jobs are back in the queue at most lockDurationMs + stalledIntervalMs after the crash
   * (while any writer runs). Default 10 000.
   */
  readonly stalledIntervalMs?: number;
  /** Redeliveries after stalls before BullMQ gives up on a job; default 1000 (effectively never). */
  readonly maxStalledCount?: number;
  /** Retry backoff for transient database failures: first and longest delay. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Months of partitions kept ahead (default 3), re-checked every `partitionCheckMs` (default 6 h). */
  readonly partitionsAhead?: number;
  readonly partitionCheckMs?: number;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
}

export interface AuditWriterStats {
  readonly written: number;
  readonly duplicates: number;
  readonly deadLettered: number;
  readonly flushes: number;
  readonly retries: number;
}

export interface AuditWriter {
  readonly worker: Worker;
  /** Readiness: fails while the database rejects writes (naming the error) or Redis is unreachable; warns when Redis keeps no AOF. */
  readonly readiness: ReadinessCheck[];
  stats(): AuditWriterStats;
  /** Stops taking jobs, writes what it holds (or hands it back to the queue), closes the worker. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tracer = trace.getTracer('@cloud-stack/audit-store');

/** The UTC month of a timestamp, e.g. "2026-11" (partitions are UTC months). */
function monthKey(iso: string): string {
  return iso.endsWith('Z') ? iso.slice(0, 7) : new Date(iso).toISOString().slice(0, 7);
}

function zodReason(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * The audit-writer's BullMQ worker: validates each job's events, dead-letters invalid ones,
 * writes the rest with many other jobs' events in one statement, and completes the jobs only
 * after that statement committed. Database outages are retried with backoff while the jobs stay
 * active (their locks renewed); `readiness` reports the outage.
 */
export function createAuditWriter(options: AuditWriterOptions): AuditWriter {
  const { db, logger, metrics } = options;
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5000;
  const writtenCounter = metrics?.counter('audit_writer_events_written_total', 'Audit events stored');
  const duplicateCounter = metrics?.counter('audit_writer_events_duplicate_total', 'Audit events skipped as already stored (redelivery)');
  const deadCounter = metrics?.counter('audit_writer_dead_letters_total', 'Audit events or jobs dead-lettered, by reason');
  const failureCounter = metrics?.counter('audit_writer_write_failures_total', 'Failed write statements, by kind');
  const flushHistogram = metrics?.histogram('audit_writer_flush_seconds', 'Duration of one flush (events and dead letters)');
  const pendingGauge = metrics?.gauge('audit_writer_pending_events', 'Events waiting for the next flush');

  let written = 0;
  let duplicates = 0;
  let deadLettered = 0;
  let flushes = 0;
  let retries = 0;
  let closing = false;
  /** Set while writes fail; cleared by the next successful write. */
  let lastFailure: { message: string; since: Date } | undefined;
  const coveredMonths = new Set<string>();

  /** Creates the partition of each month a batch needs that this writer has not seen yet (one per month, never a range). */
  async function ensureMonths(events: readonly AuditEvent[]): Promise<void> {
    const missing = new Map<string, string>();
    for (const e of events) {
      const key = monthKey(e.occurred_at);
      if (!coveredMonths.has(key) && !missing.has(key)) missing.set(key, e.occurred_at);
    }
    for (const [key, at] of missing) {
      await ensurePartitionsBetween(db, new Date(at), new Date(at));
      coveredMonths.add(key);
    }
  }

  /** Writes events, isolating rows PostgreSQL rejects as data errors into dead letters. */
  async function storeEvents(events: AuditEvent[], jobIdOf: Map<AuditEvent, string | null>, deadOut: DeadLetter[]): Promise<void> {
    await ensureMonths(events);
    try {
      const r = await insertAuditEvents(db, events);
      written += r.written;
      duplicates += r.duplicates;
      writtenCounter?.inc(undefined, r.written);
      if (r.duplicates) duplicateCounter?.inc(undefined, r.duplicates);
    } catch (err) {
      if (classifyFailure(err) !== 'data') throw err;
      failureCounter?.inc({ kind: 'data' });
      if (events.length === 1) {
        const e = events[0]!;
        deadOut.push({ jobId: jobIdOf.get(e) ?? null, batchId: null, eventId: e.event_id, payload: e, reason: `rejected by database: ${describeError(err)}` });
        return;
      }
      logger.warn({ err: describeError(err), events: events.length }, 'audit writer: batch rejected, isolating the bad events');
      for (const e of events) await storeEvents([e], jobIdOf, deadOut);
    }
  }

  async function write(jobs: readonly PendingJob[]): Promise<void> {
    const started = process.hrtime.bigint();
    const events: AuditEvent[] = [];
    const letters: DeadLetter[] = [];
    const jobIdOf = new Map<AuditEvent, string | null>();
    for (const j of jobs) {
      for (const e of j.events) {
        events.push(e);
        jobIdOf.set(e, j.jobId);
      }
      for (const l of j.deadLetters) letters.push(l);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const extraDead: DeadLetter[] = [];
        await storeEvents(events, jobIdOf, extraDead);
        const allDead = [...letters, ...extraDead];
        if (allDead.length) {
          await insertDeadLetters(db, allDead);
          deadLettered += allDead.length;
          for (const l of allDead) deadCounter?.inc({ reason: l.reason.startsWith('rejected by database') ? 'database' : 'validation' });
          logger.warn({ dead_letters: allDead.length, first_reason: allDead[0]!.reason }, 'audit writer: dead-lettered events');
        }
        flushes++;
        if (lastFailure) logger.info({ down_since: lastFailure.since }, 'audit writer: database writes recovered');
        lastFailure = undefined;
        flushHistogram?.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return;
      } catch (err) {
        const message = describeError(err);
        failureCounter?.inc({ kind: 'transient' });
        lastFailure = { message, since: lastFailure?.since ?? new Date() };
        if (closing) throw new Error(`audit writer closing while the database fails: ${message}`);
        retries++;
        const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt - 1, 16));
        logger.warn({ err: message, attempt, retry_in_ms: delay, events: events.length }, 'audit writer: write failed, retrying');
        await sleep(delay);
        // Stored rows (a commit whose reply got lost) come back as duplicates: nothing doubles.
      }
    }
  }

  const batcher = new Batcher({
    batchSize: options.batchSize ?? 1000,
    flushMs: options.flushMs ?? 20,
    parallelFlushes: options.parallelFlushes ?? 2,
    write,
  });

  async function processJob(job: Job): Promise<void> {
    const parent = typeof job.data?.traceparent === 'string' ? propagation.extract(ROOT_CONTEXT, { traceparent: job.data.traceparent }) : context.active();
    const span: Span = tracer.startSpan(
      'audit.write',
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': job.queueName, 'messaging.message.id': job.id ?? '' },
        links: traceLinks(job.data?.links),
      },
      parent,
    );
    try {
      const events: AuditEvent[] = [];
      const dead: DeadLetter[] = [];
      const batch = AuditBatchSchema.safeParse(job.data);
      let batchEvents: readonly unknown[] = [];
      if (!batch.success) {
        dead.push({ jobId: job.id ?? null, batchId: null, eventId: null, payload: job.data, reason: `invalid batch: ${zodReason(batch.error)}` });
      } else {
        try {
          batchEvents = auditBatchEvents(batch.data);
        } catch (err) {
          dead.push({ jobId: job.id ?? null, batchId: batch.data.batch_id, eventId: null, payload: job.data, reason: `invalid batch: events_deflated: ${describeError(err)}` });
        }
        for (const raw of batchEvents) {
          const parsed = AuditEventSchema.safeParse(raw);
          if (parsed.success) events.push(parsed.data);
          else {
            const id = (raw as { event_id?: unknown } | null)?.event_id;
            dead.push({ jobId: job.id ?? null, batchId: batch.data.batch_id, eventId: typeof id === 'string' ? id.slice(0, 200) : null, payload: raw, reason: `invalid event: ${zodReason(parsed.error)}` });
          }
        }
      }
      span.setAttribute('audit.events', events.length);
      span.setAttribute('audit.dead_letters', dead.length);
      pendingGauge?.set(batcher.size);
      await batcher.add(job.id ?? null, events, dead);
      span.setStatus({ code: SpanStatusCode.OK });
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  const worker = new Worker(options.queueName ?? AUDIT_QUEUE, processJob, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    concurrency: options.concurrency ?? 64,
    lockDuration: options.lockDurationMs ?? 15_000,
    stalledInterval: options.stalledIntervalMs ?? 10_000,
    maxStalledCount: options.maxStalledCount ?? 1000,
    autorun: false,
  });
  worker.on('error', (err) => logger.warn({ err: describeError(err) }, 'audit writer: worker error'));
  worker.on('failed', (job, err) => logger.warn({ job_id: job?.id, err: describeError(err) }, 'audit writer: job failed (BullMQ retries it)'));

  const partitionCheck = async () => {
    try {
      await ensureAuditPartitions(db, { monthsAhead: options.partitionsAhead ?? 3 });
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'audit writer: could not create partitions ahead (will retry)');
    }
  };
  void partitionCheck();
  const partitionTimer = setInterval(() => void partitionCheck(), options.partitionCheckMs ?? 6 * 3_600_000);
  partitionTimer.unref();
  void worker.run().catch((err: unknown) => logger.error({ err: describeError(err) }, 'audit writer: worker stopped'));
  const redisInfo = async () => (await worker.client) as unknown as RedisInfoClient;
  void redisInfo()
    .then(redisPersistenceWarning)
    .then(
      (found) => found && logger.warn({ redis_persistence: found.persistence }, `audit writer: ${found.warning}`),
      (err: unknown) => logger.warn({ err: describeError(err) }, 'audit writer: could not read Redis persistence settings'),
    );

  const readiness: ReadinessCheck[] = [
    {
      name: 'audit-writes',
      check: async () => {
        if (lastFailure) throw new Error(`database writes failing since ${lastFailure.since.toISOString()}: ${lastFailure.message}`);
      },
    },
    {
      name: 'redis',
      check: async () => {
        const client = (await worker.client) as unknown as { ping(): Promise<string> };
        await client.ping();
      },
    },
    {
      // Ready either way (the queue works), but /ready shows what an operator should fix.
      name: 'redis-persistence',
      check: async () => {
        const found = await redisPersistenceWarning(await redisInfo());
        return found ? { warning: found.warning } : undefined;
      },
    },
  ];

  return {
    worker,
    readiness,
    stats: () => ({ written, duplicates, deadLettered, flushes, retries }),
    async close() {
      clearInterval(partitionTimer);
      const closed = worker.close(); // stops fetching; waits for active jobs
      closing = true;
      await batcher.drain();
      await closed;
    },
  };
}

/**
 * Links to the spans that emitted a batch's other events (OpenTelemetry's batch-consumer
 * pattern: one parent, the rest linked), so every request's trace reaches the write.
 */
function traceLinks(raw: unknown): Link[] {
  if (!Array.isArray(raw)) return [];
  const links: Link[] = [];
  for (const tp of raw.slice(0, AUDIT_BATCH_MAX_LINKS)) {
    if (typeof tp !== 'string') continue;
    const sc = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: tp }));
    if (sc && isSpanContextValid(sc)) links.push({ context: sc });
  }
  return links;
}
