import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { AUDIT_BATCH_MAX_LINKS, AUDIT_QUEUE, uuidv7, type AuditBatch, type AuditEventInput } from '@cloud-stack/contracts';
import type { Logger, MetricsRegistry } from '@cloud-stack/service-kit';
import { cheapReject } from './validate';

export interface AuditProducerOptions {
  /** ioredis options, an ioredis instance, or a redis:// URL. */
  readonly connection: ConnectionOptions | string;
  /** BullMQ key prefix (default "bull"). */
  readonly prefix?: string;
  readonly queueName?: string;
  /** Most events in one job (default 500). */
  readonly maxBatch?: number;
  /** How long the first event of a batch waits for company (default 5 ms). */
  readonly lingerMs?: number;
  /** Events held in memory at most, buffered or in flight; beyond that `emit` drops and counts (default 50 000). */
  readonly maxBuffered?: number;
  /** Attempts of one Queue.add before the batch is dropped and counted (default 8, backoff from 50 ms up to 5 s). */
  readonly addAttempts?: number;
  /** Job options merged over the defaults (attempts 25, exponential backoff, bounded removeOnComplete/removeOnFail). */
  readonly jobOptions?: JobsOptions;
  readonly logger?: Pick<Logger, 'warn' | 'error'>;
  readonly metrics?: MetricsRegistry;
}

export interface AuditProducerStats {
  /** Events accepted by `emit`. */
  readonly emitted: number;
  /** Events in jobs Redis acknowledged. */
  readonly enqueued: number;
  /** Events lost on this side: rejected by the cheap check, over the buffer bound, or Redis unreachable after every retry. */
  readonly dropped: number;
  /** Events accepted and not enqueued yet. */
  readonly pending: number;
}

export interface AuditProducer {
  /** Hands an event over; synchronous, never blocks, never throws for bad data. Returns whether it was accepted. */
  emit(event: AuditEventInput): boolean;
  /** Resolves once every event emitted so far is in Redis (or counted as dropped). */
  flush(): Promise<void>;
  /** Flushes, then closes the queue connection. */
  close(): Promise<void>;
  stats(): AuditProducerStats;
}

export const DEFAULT_AUDIT_JOB_OPTIONS: JobsOptions = {
  attempts: 25,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 10_000 },
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** W3C traceparent of the active span, if any, for the writer to continue or link to. */
function currentTraceparent(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The one way services emit audit events: events are grouped for a few milliseconds (or up to
 * `maxBatch`) into one BullMQ job on the `audit` queue whose job id is the batch id, so BullMQ's
 * per-job cost is paid per batch, not per event. The buffer is bounded; overflow is counted and
 * logged, never silent.
 */
export function createAuditProducer(options: AuditProducerOptions): AuditProducer {
  const maxBatch = options.maxBatch ?? 500;
  const lingerMs = options.lingerMs ?? 5;
  const maxBuffered = options.maxBuffered ?? 50_000;
  const addAttempts = options.addAttempts ?? 8;
  const jobOptions: JobsOptions = { ...DEFAULT_AUDIT_JOB_OPTIONS, ...options.jobOptions };
  const connection = typeof options.connection === 'string' ? { url: options.connection } : options.connection;
  const queue = new Queue<AuditBatch>(options.queueName ?? AUDIT_QUEUE, { connection, ...(options.prefix ? { prefix: options.prefix } : {}) });
  queue.on('error', (err) => options.logger?.warn({ err }, 'audit producer: queue connection error'));

  const emittedCounter = options.metrics?.counter('audit_producer_events_emitted_total', 'Audit events accepted by emit');
  const enqueuedCounter = options.metrics?.counter('audit_producer_events_enqueued_total', 'Audit events acknowledged by Redis');
  const droppedCounter = options.metrics?.counter('audit_producer_events_dropped_total', 'Audit events dropped by the producer, by reason');

  let buffer: unknown[] = [];
  // The batch's distinct emitting spans: the first is the write span's parent, the rest its links.
  let traceparents: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlightEvents = 0;
  const inFlight = new Set<Promise<void>>();
  let emitted = 0;
  let enqueued = 0;
  let dropped = 0;
  let closed = false;
  let lastOverflowLog = 0;

  const drop = (n: number, reason: string, detail?: unknown) => {
    dropped += n;
    droppedCounter?.inc({ reason }, n);
    const now = Date.now();
    // Log every non-overflow drop; overflow at most once a second (it comes in floods).
    if (reason !== 'overflow' || now - lastOverflowLog > 1000) {
      if (reason === 'overflow') lastOverflowLog = now;
      options.logger?.error({ dropped: n, reason, detail, total_dropped: dropped }, 'audit producer dropped events');
    }
  };

  async function send(events: unknown[], parents: string[]): Promise<void> {
    const [parent, ...links] = parents;
    const batch: AuditBatch = { batch_id: uuidv7(), events, ...(parent ? { traceparent: parent } : {}), ...(links.length ? { links } : {}) };
    for (let attempt = 1; ; attempt++) {
      try {
        // jobId = batch_id: a retried add after a lost reply cannot enqueue the batch twice.
        await queue.add('batch', batch, { ...jobOptions, jobId: batch.batch_id });
        enqueued += events.length;
        enqueuedCounter?.inc(undefined, events.length);
        return;
      } catch (err) {
        if (attempt >= addAttempts) {
          drop(events.length, 'redis_unavailable', (err as Error).message);
          return;
        }
        options.logger?.warn({ err, attempt }, 'audit producer: enqueue failed, retrying');
        await sleep(Math.min(5000, 50 * 2 ** (attempt - 1)));
      }
    }
  }

  function dispatch(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (buffer.length === 0) return;
    const events = buffer;
    const parents = traceparents;
    buffer = [];
    traceparents = [];
    inFlightEvents += events.length;
    const p = send(events, parents).finally(() => {
      inFlightEvents -= events.length;
      inFlight.delete(p);
    });
    inFlight.add(p);
  }

  function emit(event: AuditEventInput): boolean {
    if (closed) {
      drop(1, 'closed');
      return false;
    }
    const bad = cheapReject(event);
    if (bad) {
      drop(1, 'invalid', bad);
      return false;
    }
    if (buffer.length + inFlightEvents >= maxBuffered) {
      drop(1, 'overflow');
      return false;
    }
    emitted++;
    emittedCounter?.inc();
    const tp = currentTraceparent();
    if (tp !== undefined && traceparents.length <= AUDIT_BATCH_MAX_LINKS && traceparents[traceparents.length - 1] !== tp && !traceparents.includes(tp)) {
      traceparents.push(tp);
    }
    buffer.push(event);
    if (buffer.length >= maxBatch) dispatch();
    else if (!timer) timer = setTimeout(dispatch, lingerMs);
    return true;
  }

  async function flush(): Promise<void> {
    dispatch();
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  }

  return {
    emit,
    flush,
    async close() {
      closed = true;
      await flush();
      await queue.close();
    },
    stats: () => ({ emitted, enqueued, dropped, pending: buffer.length + inFlightEvents }),
  };
}
