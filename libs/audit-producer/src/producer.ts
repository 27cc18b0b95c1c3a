import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { AUDIT_BATCH_MAX_LINKS, AUDIT_QUEUE, deflateAuditEvents, uuidv7, type AuditBatch, type AuditEventInput } from '@cloud-stack/contracts';
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
  /**
   * How long the first event of a batch waits for company. 0 (default): until the event loop
   * turns, so events emitted together share one job; while an add is on its way to Redis the next
   * batch gathers behind it, so batches grow with load and the adds in flight stay few.
   */
  readonly lingerMs?: number;
  /**
   * How many events are on their way (for example requests in progress, each of which will emit
   * one). While any are, a batch that has lingered waits for them up to `gatherMs` more, as
   * PostgreSQL's commit_delay waits for commit_siblings: under load one add carries many events,
   * while a lone event still goes after one turn of the event loop.
   */
  readonly coming?: () => number;
  /** Longest a batch waits for `coming` events (default 2 ms). */
  readonly gatherMs?: number;
  /**
   * Jobs carry their events deflated (`events_deflated`). For a producer with large batches on a
   * thread of its own (the policy-sidecar's decision-log worker): compressing costs that thread
   * ~4 µs per event, and spares Redis ~8 µs per event and most of the job's memory.
   */
  readonly deflate?: boolean;
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
  /**
   * `emit`, and when the event is in Redis: resolves true once Redis acknowledged its batch, false
   * if it was refused or dropped (then it never will be). One promise per batch, shared by its events.
   */
  emitAndConfirm(event: AuditEventInput): Promise<boolean>;
  /**
   * `emit` for an event another thread built with `buildAuditEvent` and encoded as JSON (the
   * policy-sidecar's request thread does, so its decision-log worker only batches, compresses and
   * enqueues). Only with `deflate`; the event is not checked here (the audit-writer validates every
   * event, and dead-letters what does not fit the schema).
   */
  emitEncoded(json: string): boolean;
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
const REFUSED = Promise.resolve(false);

/** The answer to a batch's `emitAndConfirm` callers, made on the first such call. */
interface Confirmation {
  readonly promise: Promise<boolean>;
  readonly settle: (stored: boolean) => void;
}

function confirmation(): Confirmation {
  let settle!: (stored: boolean) => void;
  const promise = new Promise<boolean>((r) => (settle = r));
  return { promise, settle };
}

/** W3C traceparent of the active span, if any, for the writer to continue or link to. */
function currentTraceparent(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The one way services emit audit events: events emitted within one turn of the event loop (or
 * while the previous add is on the wire, or up to `maxBatch`) go into one BullMQ job on the `audit`
 * queue whose job id is the batch id, so BullMQ's per-job cost is paid per batch, not per event,
 * and an event waits about one Redis round trip. The buffer is bounded; overflow is counted and
 * logged, never silent.
 */
export function createAuditProducer(options: AuditProducerOptions): AuditProducer {
  const maxBatch = options.maxBatch ?? 500;
  const lingerMs = options.lingerMs ?? 0;
  const coming = options.coming;
  const gatherMs = options.gatherMs ?? 2;
  const maxBuffered = options.maxBuffered ?? 50_000;
  const addAttempts = options.addAttempts ?? 8;
  const jobOptions: JobsOptions = { ...DEFAULT_AUDIT_JOB_OPTIONS, ...options.jobOptions };
  const connection = typeof options.connection === 'string' ? { url: options.connection } : options.connection;
  const queue = new Queue<AuditBatch>(options.queueName ?? AUDIT_QUEUE, { connection, ...(options.prefix ? { prefix: options.prefix } : {}) });
  queue.on('error', (err) => options.logger?.warn({ err }, 'audit producer: queue connection error'));

  const emittedCounter = options.metrics?.counter('audit_producer_events_emitted_total', 'Audit events accepted by emit');
  const enqueuedCounter = options.metrics?.counter('audit_producer_events_enqueued_total', 'Audit events acknowledged by Redis');
  const droppedCounter = options.metrics?.counter('audit_producer_events_dropped_total', 'Audit events dropped by the producer, by reason');
  // Events enqueued over jobs added is the batch size: how well adds are shared under load.
  const jobsCounter = options.metrics?.counter('audit_producer_jobs_added_total', 'BullMQ jobs (batches of audit events) Redis acknowledged');

  // Deflated, each event is held as its JSON from the moment it is emitted: a batch that waits for
  // company holds strings, not object graphs that every young-generation collection copies (in the
  // sidecar's decision-log worker, 500-event batches promoted ~10 MB per scavenge).
  const deflate = options.deflate === true;
  let buffer: unknown[] = [];
  // The batch's distinct emitting spans: the first is the write span's parent, the rest its links.
  let traceparents: string[] = [];
  let confirm: Confirmation | undefined;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  // Adds sent and not answered yet.
  let onWire = 0;
  // The batch's wait is over, but it waits for the add on the wire to come back.
  let due = false;
  // The batch has lingered and now waits for the `coming` events.
  let gathering = false;
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

  /** One add; resolves with its error, if any. While it is unanswered, the next batch gathers behind it. */
  async function add(batch: AuditBatch): Promise<Error | undefined> {
    onWire++;
    try {
      // jobId = batch_id: a retried add after a lost reply cannot enqueue the batch twice.
      await queue.add('batch', batch, { ...jobOptions, jobId: batch.batch_id });
      return undefined;
    } catch (err) {
      return err as Error;
    } finally {
      onWire--;
      // The batch that gathered behind this add goes now: it has waited a round trip already.
      if (due && onWire === 0) dispatch();
    }
  }

  /** Resolves true once Redis has the batch, false once it is dropped. */
  async function send(events: unknown[], parents: string[]): Promise<boolean> {
    const [parent, ...links] = parents;
    const batch: AuditBatch = {
      batch_id: uuidv7(),
      ...(deflate ? { events_deflated: deflateAuditEvents(events as string[]) } : { events }),
      ...(parent ? { traceparent: parent } : {}),
      ...(links.length ? { links } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      const err = await add(batch);
      if (!err) {
        enqueued += events.length;
        enqueuedCounter?.inc(undefined, events.length);
        jobsCounter?.inc();
        return true;
      }
      if (attempt >= addAttempts) {
        drop(events.length, 'redis_unavailable', err.message);
        return false;
      }
      options.logger?.warn({ err, attempt }, 'audit producer: enqueue failed, retrying');
      // Sleeping is not being on the wire: batches emitted meanwhile go on their own.
      await sleep(Math.min(5000, 50 * 2 ** (attempt - 1)));
    }
  }

  function dispatch(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (immediate) {
      clearImmediate(immediate);
      immediate = undefined;
    }
    due = false;
    gathering = false;
    if (buffer.length === 0) return;
    const events = buffer;
    const parents = traceparents;
    const confirmed = confirm;
    buffer = [];
    traceparents = [];
    confirm = undefined;
    inFlightEvents += events.length;
    const p = send(events, parents).then((stored) => {
      inFlightEvents -= events.length;
      inFlight.delete(p);
      confirmed?.settle(stored);
    });
    inFlight.add(p);
  }

  /**
   * The batch's wait is over (unless events are coming: then it gathers them first): it goes unless
   * an add is on the wire, then it goes when that returns.
   */
  function lingered(): void {
    timer = undefined;
    immediate = undefined;
    if (!gathering && coming && coming() > 0) {
      gathering = true;
      timer = setTimeout(lingered, gatherMs);
      return;
    }
    gathering = false;
    if (onWire === 0) dispatch();
    else due = true;
  }

  /** Takes one event (deflating: its JSON) into the batch being gathered. */
  function accept(event: unknown): boolean {
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
    else if (gathering && coming!() === 0) {
      clearTimeout(timer);
      lingered();
    } else if (buffer.length === 1) {
      if (lingerMs === 0) immediate = setImmediate(lingered);
      else timer = setTimeout(lingered, lingerMs);
    }
    return true;
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
    return accept(deflate ? JSON.stringify(event) : event);
  }

  function emitEncoded(json: string): boolean {
    if (!deflate) throw new Error('emitEncoded needs a producer that deflates (deflate: true)');
    if (closed) {
      drop(1, 'closed');
      return false;
    }
    if (typeof json !== 'string' || !json.startsWith('{')) {
      drop(1, 'invalid', 'not the JSON of an event object');
      return false;
    }
    return accept(json);
  }

  function emitAndConfirm(event: AuditEventInput): Promise<boolean> {
    // Taken before emit: a full batch is dispatched inside it, this event and this promise with it.
    const batch = (confirm ??= confirmation());
    return emit(event) ? batch.promise : REFUSED;
  }

  async function flush(): Promise<void> {
    dispatch();
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  }

  return {
    emit,
    emitAndConfirm,
    emitEncoded,
    flush,
    async close() {
      closed = true;
      await flush();
      await queue.close();
    },
    stats: () => ({ emitted, enqueued, dropped, pending: buffer.length + inFlightEvents }),
  };
}
