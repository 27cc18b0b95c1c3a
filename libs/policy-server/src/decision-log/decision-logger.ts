import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger, MetricsRegistry } from '@cloud-stack/service-kit';
import { entryEncoder } from './encode';
import { maskEntry, parseMaskRules, type MaskRule } from './mask';
import type { DeferredMask } from './mask-policy';
import { DEFAULT_WORKER_NICE, WORKER_KIND, type DecisionLogShipping, type DecisionLogWorkerData, type FromWorker, type ShippingProgress, type ToWorker } from './shipping';
import type { DecisionLogEntry, DecisionLogSink } from './types';

interface CommonOptions {
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  /** JSON pointers to erase, e.g. ['/input/password', '/input/token']. */
  readonly mask?: readonly string[];
  /** Entries held and not yet shipped (or lost); beyond this new entries are dropped (and counted). */
  readonly bufferSize?: number;
}

/** A sink object on the request thread: for tests and the console sink. */
export interface InThreadDecisionLoggerOptions extends CommonOptions {
  readonly sink: DecisionLogSink;
  /** Entries buffered before shipping starts (else the interval ships what there is). */
  readonly batchSize?: number;
  /** Entries handed to the sink per turn of the event loop (default: the whole batch). */
  readonly sliceSize?: number;
  /** How long an entry may wait for its batch to fill. */
  readonly flushIntervalMs?: number;
}

/** A sink opened in a worker thread: serialisation and I/O never run on the request thread. */
export interface WorkerDecisionLoggerOptions extends CommonOptions {
  readonly shipping: DecisionLogShipping;
  /**
   * The module the worker thread runs. By default the library's own entry when it runs from its
   * sources; in a bundled app, the app's entry file, which must run `runDecisionLogWorker()` when
   * it is not on the main thread (apps/policy-sidecar/src/main.ts does).
   */
  readonly workerUrl?: URL;
  /** close() waits at most this long for the worker to ship what is left (plus a second to report). */
  readonly closeTimeoutMs?: number;
  /** Entries are handed to the worker this often (default 2 ms), not once per decision. */
  readonly handOverMs?: number;
  /** The worker thread's nice value (Linux; default 5): see DECISION_LOG_WORKER_NICE. */
  readonly workerNice?: number;
}

export type DecisionLoggerOptions = InThreadDecisionLoggerOptions | WorkerDecisionLoggerOptions;

/** The counts every mode keeps, mirrored as metrics. */
class Tally {
  dropped = 0;
  shipped = 0;
  failed = 0;
  private readonly droppedCounter;
  private readonly shippedCounter;
  private readonly failedCounter;

  constructor(metrics: MetricsRegistry | undefined) {
    this.droppedCounter = metrics?.counter('decision_logs_dropped_total', 'Decision logs dropped: the buffer was full, or the sink refused or gave up on them');
    this.shippedCounter = metrics?.counter('decision_logs_shipped_total', 'Decision logs shipped (in the queue, or acknowledged by the log service)');
    this.failedCounter = metrics?.counter('decision_logs_failed_total', 'Decision logs lost because the sink failed');
  }

  drop(n: number): void {
    this.dropped += n;
    this.droppedCounter?.inc(undefined, n);
  }
  ship(n: number): void {
    this.shipped += n;
    this.shippedCounter?.inc(undefined, n);
  }
  fail(n: number): void {
    this.failed += n;
    this.failedCounter?.inc(undefined, n);
  }
}

/** An entry held on the request thread, with the mask step still to apply. */
interface Held {
  readonly entry: DecisionLogEntry;
  readonly mask?: DeferredMask;
}

/** Applies the held entries' mask steps; the entries a step dropped are counted. */
function release(held: readonly Held[], tally: Tally): DecisionLogEntry[] {
  const out: DecisionLogEntry[] = [];
  for (const h of held) {
    const e = h.mask ? h.mask(h.entry) : h.entry;
    if (e) out.push(e);
  }
  if (out.length < held.length) tally.drop(held.length - out.length);
  return out;
}

interface Pipeline {
  log(held: Held): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Collects decision logs without ever making a decision wait: `log()` only pushes onto a bounded
 * buffer; masking, serialisation and shipping happen elsewhere. When the buffer is full (the sink
 * is slow or down), entries are dropped and counted, never queued without bound.
 *
 * With `shipping` (the audit queue, a remote log service) the sink lives in a worker thread: after
 * each turn's responses are written the request thread masks and encodes that turn's entries, and
 * hands what it encoded to the worker every few milliseconds; the worker batches, compresses and
 * does the I/O. With a `sink` object the entries are shipped on the request thread in batches, one
 * slice per turn (tests, the console sink).
 */
export class DecisionLogger {
  private readonly tally: Tally;
  private readonly pipeline: Pipeline;

  constructor(options: DecisionLoggerOptions) {
    this.tally = new Tally(options.metrics);
    const rules = parseMaskRules(options.mask ?? []);
    this.pipeline = 'sink' in options ? new InThreadPipeline(options, rules, this.tally) : new WorkerPipeline(options, rules, this.tally);
  }

  /** Entries dropped because the buffer was full or the sink gave up on them (also a metric). */
  get dropped(): number {
    return this.tally.dropped;
  }
  get shipped(): number {
    return this.tally.shipped;
  }
  get failed(): number {
    return this.tally.failed;
  }

  /**
   * Never blocks, never throws. `mask` (the mask policy of the deciding revision) runs when the
   * entry leaves the request thread, after the response; when it answers undefined the entry is
   * dropped and counted.
   */
  log(entry: DecisionLogEntry, mask?: DeferredMask): void {
    this.pipeline.log(mask ? { entry, mask } : { entry });
  }

  /** Ships what is buffered and waits until the sink has taken it (or given up). */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Ships everything, then closes the sink; later entries are dropped and counted. */
  close(): Promise<void> {
    return this.pipeline.close();
  }
}

/** From sources, the library's own worker entry; bundled (code split into chunks), the app's entry file. */
function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker-main.ts', here) : pathToFileURL(process.argv[1] ?? '');
}

class WorkerPipeline implements Pipeline {
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly bufferSize: number;
  private readonly closeTimeoutMs: number;
  private readonly bufferedGauge;
  /** Entries of this turn of the event loop, encoded once the turn's responses are written. */
  private pending: Held[] = [];
  private immediate: NodeJS.Immediate | undefined;
  /** Encoded entries waiting for the next hand-over to the worker. */
  private encoded: string[] = [];
  private readonly encodeEntry: (entry: DecisionLogEntry) => string;
  private handOver: NodeJS.Timeout | undefined;
  private readonly handOverMs: number;
  private posted = 0;
  private progress: ShippingProgress = { shipped: 0, dropped: 0, failed: 0 };
  private flushes = new Map<number, () => void>();
  private nextFlush = 0;
  private closing: Promise<void> | undefined;
  private closedReport: (() => void) | undefined;
  private alive = true;
  /** Resolves when the worker has loaded and listens (start-up may take a while: tsx, a cold disk). */
  private readonly ready: Promise<void>;
  private onReady: () => void = () => undefined;

  constructor(options: WorkerDecisionLoggerOptions, rules: readonly MaskRule[], private readonly tally: Tally) {
    this.logger = options.logger;
    this.encodeEntry = entryEncoder(options.shipping.kind, rules);
    this.bufferSize = options.bufferSize ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.handOverMs = options.handOverMs ?? 2;
    this.bufferedGauge = options.metrics?.gauge('decision_logs_buffered', 'Decision logs held for shipping (request thread and worker)');
    const url = options.workerUrl ?? defaultWorkerUrl();
    const workerData: DecisionLogWorkerData = {
      kind: WORKER_KIND,
      shipping: options.shipping,
      nice: options.workerNice ?? DEFAULT_WORKER_NICE,
    };
    this.worker = url.pathname.endsWith('.ts')
      ? // From sources the worker registers tsx's loader itself: a parent's loader hooks do not reach
        // a worker on Node 20 (not even through execArgv), and a test runner's process has none.
        new Worker(`import('tsx/esm/api').then((tsx) => tsx.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true, workerData })
      : new Worker(url, { workerData });
    // The worker must not keep a process alive on its own; close() waits for it explicitly.
    this.worker.unref();
    this.ready = new Promise<void>((resolve) => (this.onReady = resolve));
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => this.logger.error({ err }, 'decision log worker failed; decision logs are dropped from now on'));
    this.worker.on('exit', () => this.onExit());
  }

  private get outstanding(): number {
    const p = this.progress;
    return this.posted + this.encoded.length + this.pending.length - (p.shipped + p.dropped + p.failed);
  }

  log(held: Held): void {
    if (!this.alive || this.closing || this.outstanding >= this.bufferSize) {
      this.tally.drop(1);
      return;
    }
    this.pending.push(held);
    // Encoded after this turn's responses (the check phase follows the I/O callbacks), then handed
    // to the worker every `handOverMs`. A message per turn cost the request thread ~25 µs at one
    // connection (postMessage's own work and waking the worker, once per decision); encoding is
    // done per turn so no hand-over is a lump: cloning batches held for 10 ms made lumps (~200 µs
    // at 6k decisions/s) that raised the p99 of a decision at one connection (bench:policy). Longer
    // hand-overs are no better: the worker's work then comes in bursts that lengthen that p99.
    this.immediate ??= setImmediate(() => this.encode());
  }

  /** The turn's entries, masked and encoded, joined to what waits for the hand-over. */
  private encode(): void {
    clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.pending.length === 0) return;
    const held = this.pending;
    this.pending = [];
    if (!this.alive) {
      this.tally.drop(held.length);
      return;
    }
    let failed = 0;
    let error: unknown;
    for (const entry of release(held, this.tally)) {
      try {
        this.encoded.push(this.encodeEntry(entry));
      } catch (err) {
        // Not JSON (a value no decision log should hold), or a mask rule that failed: this entry only.
        failed++;
        error = err;
      }
    }
    if (failed > 0) {
      this.tally.fail(failed);
      this.logger.warn({ err: error, entries: failed }, 'decision log entries could not be encoded for the worker');
    }
    if (this.encoded.length > 0) this.handOver ??= setTimeout(() => this.post(), this.handOverMs);
  }

  private post(): void {
    this.encode();
    clearTimeout(this.handOver);
    this.handOver = undefined;
    if (this.encoded.length === 0) return;
    const json = this.encoded;
    this.encoded = [];
    if (!this.alive) {
      this.tally.drop(json.length);
      return;
    }
    this.send({ type: 'entries', json });
    this.posted += json.length;
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready') {
      this.bufferedGauge?.set(this.outstanding);
      this.onReady();
      return;
    }
    if (m.type === 'log') {
      this.logger[m.level](m.fields ?? {}, m.msg);
      return;
    }
    const before = this.progress;
    this.progress = { shipped: m.shipped, dropped: m.dropped, failed: m.failed };
    if (m.shipped > before.shipped) this.tally.ship(m.shipped - before.shipped);
    if (m.dropped > before.dropped) this.tally.drop(m.dropped - before.dropped);
    if (m.failed > before.failed) this.tally.fail(m.failed - before.failed);
    this.bufferedGauge?.set(this.outstanding);
    if (m.type === 'flushed') {
      this.flushes.get(m.id)?.();
      this.flushes.delete(m.id);
    } else if (m.type === 'closed') {
      this.closedReport?.();
    }
  }

  private onExit(): void {
    this.alive = false;
    // Whatever the worker held and had not reported is lost.
    const lost = this.outstanding - this.pending.length - this.encoded.length;
    if (lost > 0) {
      this.tally.fail(lost);
      this.posted -= lost;
    }
    for (const resolve of this.flushes.values()) resolve();
    this.flushes.clear();
    this.closedReport?.();
    this.onReady();
  }

  flush(): Promise<void> {
    this.post();
    if (!this.alive) return Promise.resolve();
    const id = this.nextFlush++;
    return new Promise<void>((resolve) => {
      this.flushes.set(id, resolve);
      this.send({ type: 'flush', id });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.post();
      if (this.alive) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.closedReport = resolve;
          this.send({ type: 'close' });
          // The budget is the sink's: it starts once the worker runs (the caller bounds start-up).
          void this.ready.then(() => (timer = setTimeout(resolve, this.closeTimeoutMs + 1000)));
        });
        clearTimeout(timer);
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

class InThreadPipeline implements Pipeline {
  private buffer: Held[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private inFlight = new Set<Promise<void>>();
  private readonly bufferSize: number;
  private readonly batchSize: number;
  private readonly sliceSize: number;
  /** Entries of the batch being shipped that are still to go, slice by slice. */
  private releasing = 0;
  private readonly flushIntervalMs: number;
  private closed = false;

  constructor(
    private readonly options: InThreadDecisionLoggerOptions,
    private readonly rules: readonly MaskRule[],
    private readonly tally: Tally,
  ) {
    this.bufferSize = options.bufferSize ?? 10_000;
    this.batchSize = Math.max(1, options.batchSize ?? 500);
    this.sliceSize = Math.max(1, options.sliceSize ?? this.batchSize);
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
  }

  log(held: Held): void {
    if (this.closed || this.buffer.length >= this.bufferSize) {
      this.tally.drop(1);
      return;
    }
    this.buffer.push(held);
    // A full batch ships on the next turn of the event loop, after the response that logged
    // it is written: masking and enqueueing a batch must not delay that one decision.
    if (this.buffer.length >= this.batchSize) this.immediate ??= setImmediate(() => this.ship());
    else this.timer ??= setTimeout(() => this.ship(), this.flushIntervalMs);
  }

  async flush(): Promise<void> {
    while (this.buffer.length > 0) this.ship();
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    await this.options.sink.flush?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.options.sink.close();
  }

  private ship(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.buffer.length === 0) {
      this.releasing = 0;
      return;
    }
    if (this.releasing <= 0) this.releasing = Math.min(this.buffer.length, this.batchSize);
    const n = Math.min(this.releasing, this.sliceSize);
    this.releasing -= n;
    const batch = release(this.buffer.splice(0, n), this.tally).map((e) => maskEntry(this.rules, e));
    if (batch.length === 0) return this.schedule();
    const sent = this.options.sink.send(batch).then(
      () => this.tally.ship(batch.length),
      (err: unknown) => {
        this.tally.fail(batch.length);
        this.options.logger.warn({ err, entries: batch.length }, 'decision log batch lost');
      },
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    this.schedule();
  }

  /** One slice per turn of the event loop: requests that arrived meanwhile are answered between slices. */
  private schedule(): void {
    if (this.releasing > 0 || this.buffer.length >= this.batchSize) this.immediate = setImmediate(() => this.ship());
    else if (this.buffer.length > 0) this.timer = setTimeout(() => this.ship(), this.flushIntervalMs);
  }
}
