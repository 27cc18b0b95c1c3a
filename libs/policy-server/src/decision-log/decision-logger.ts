import type { Logger, MetricsRegistry } from '@cloud-stack/service-kit';
import { applyMask, parseMaskRules, type MaskRule } from './mask';
import type { DecisionLogEntry, DecisionLogSink } from './types';

export interface DecisionLoggerOptions {
  readonly sink: DecisionLogSink;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  /** JSON pointers to erase, e.g. ['/input/password', '/input/token']. */
  readonly mask?: readonly string[];
  /** Entries waiting to be shipped; beyond this new entries are dropped (and counted). */
  readonly bufferSize?: number;
  /** Entries buffered before shipping starts (else the interval ships what there is). */
  readonly batchSize?: number;
  /** Entries handed to the sink per turn of the event loop (default: the whole batch). */
  readonly sliceSize?: number;
  /** How long an entry may wait for its batch to fill. */
  readonly flushIntervalMs?: number;
}

/**
 * Collects decision logs without ever making a decision wait: `log()` only pushes onto a bounded
 * buffer; masking and shipping happen later. When the buffer is full (the sink is slow or down),
 * entries are dropped and counted, never queued without bound.
 *
 * Shipping starts when a batch has gathered (or the interval passed), as OPA uploads its decision
 * logs, and goes out in slices, one per turn of the event loop. The decisions that arrive during
 * a shipping turn wait for it: the batch size sets how often that happens (the tail at one
 * connection), the slice how long it lasts (the tail at ten, where every request in flight
 * waits). Both still run on the event loop; bench:policy measures the two tails.
 */
export class DecisionLogger {
  private buffer: DecisionLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private inFlight = new Set<Promise<void>>();
  private readonly rules: MaskRule[];
  private readonly bufferSize: number;
  private readonly batchSize: number;
  private readonly sliceSize: number;
  /** Entries of the batch being shipped that are still to go, slice by slice. */
  private releasing = 0;
  private readonly flushIntervalMs: number;
  private readonly droppedCounter;
  private readonly shippedCounter;
  private readonly failedCounter;
  private closed = false;
  /** Entries dropped because the buffer was full (also exported as a metric). */
  dropped = 0;
  shipped = 0;
  failed = 0;

  constructor(private readonly options: DecisionLoggerOptions) {
    this.rules = parseMaskRules(options.mask ?? []);
    this.bufferSize = options.bufferSize ?? 10_000;
    this.batchSize = Math.max(1, options.batchSize ?? 500);
    this.sliceSize = Math.max(1, options.sliceSize ?? this.batchSize);
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.droppedCounter = options.metrics?.counter('decision_logs_dropped_total', 'Decision logs dropped because the buffer was full');
    this.shippedCounter = options.metrics?.counter('decision_logs_shipped_total', 'Decision logs handed to the sink');
    this.failedCounter = options.metrics?.counter('decision_logs_failed_total', 'Decision logs lost because the sink failed');
  }

  /** Never blocks, never throws. */
  log(entry: DecisionLogEntry): void {
    if (this.closed || this.buffer.length >= this.bufferSize) {
      this.dropped++;
      this.droppedCounter?.inc();
      return;
    }
    this.buffer.push(entry);
    // A full batch ships on the next turn of the event loop, after the response that logged
    // it is written: masking and enqueueing a batch must not delay that one decision.
    if (this.buffer.length >= this.batchSize) this.immediate ??= setImmediate(() => this.ship());
    else this.timer ??= setTimeout(() => this.ship(), this.flushIntervalMs);
  }

  /** Ships what is buffered and waits for every batch in flight. */
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
    const batch = this.buffer.splice(0, n).map((e) => this.mask(e));
    const sent = this.options.sink.send(batch).then(
      () => {
        this.shipped += batch.length;
        this.shippedCounter?.inc(undefined, batch.length);
      },
      (err: unknown) => {
        this.failed += batch.length;
        this.failedCounter?.inc(undefined, batch.length);
        this.options.logger.warn({ err, entries: batch.length }, 'decision log batch lost');
      },
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    // One slice per turn of the event loop: requests that arrived meanwhile are answered between slices.
    if (this.releasing > 0 || this.buffer.length >= this.batchSize) this.immediate = setImmediate(() => this.ship());
    else if (this.buffer.length > 0) this.timer = setTimeout(() => this.ship(), this.flushIntervalMs);
  }

  private mask(entry: DecisionLogEntry): DecisionLogEntry {
    if (this.rules.length === 0) return entry;
    const { input, result, erased } = applyMask(this.rules, entry);
    if (erased.length === 0) return entry;
    return { ...entry, input, result, erased };
  }
}
