import type { AuditEvent } from '@cloud-stack/contracts';
import type { DeadLetter } from './dead-letter';

/** What one job contributes to a flush, and how its process() learns the outcome. */
export interface PendingJob {
  readonly jobId: string | null;
  readonly events: AuditEvent[];
  readonly deadLetters: DeadLetter[];
  resolve(): void;
  reject(err: Error): void;
}

export interface BatcherOptions {
  /** Flush once this many events are pending… */
  readonly batchSize: number;
  /** …or this long after the first pending job arrived, whichever comes first. */
  readonly flushMs: number;
  /** Flushes allowed in flight at once (each uses one database connection). */
  readonly parallelFlushes: number;
  /** Writes the jobs' events and dead letters; resolves once durable, rejects to fail the jobs. */
  readonly write: (jobs: readonly PendingJob[]) => Promise<void>;
}

/**
 * Collects the events of concurrently processed jobs and writes them together: every
 * `batchSize` events or `flushMs` milliseconds. A job's promise settles only after the
 * statement holding its events committed, so BullMQ completes a job only once it is durable.
 */
export class Batcher {
  private pending: PendingJob[] = [];
  private pendingEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BatcherOptions) {}

  /** Queues a job's events; resolves when they are stored. */
  add(jobId: string | null, events: AuditEvent[], deadLetters: DeadLetter[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ jobId, events, deadLetters, resolve, reject });
      this.pendingEvents += events.length + deadLetters.length;
      if (this.pendingEvents >= this.options.batchSize) this.kick();
      else if (!this.timer) this.timer = setTimeout(() => this.kick(true), this.options.flushMs);
    });
  }

  get size(): number {
    return this.pendingEvents;
  }

  /** Writes whatever is pending now and waits for every flush in flight. */
  async drain(): Promise<void> {
    this.kick(true);
    while (this.inFlight.size > 0 || this.pending.length > 0) {
      this.kick(true);
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private kick(timerFired = false): void {
    if (timerFired && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.pending.length > 0 && this.running < this.options.parallelFlushes && (timerFired || this.pendingEvents >= this.options.batchSize)) {
      this.startFlush();
      timerFired = false;
    }
    if (this.pending.length > 0 && !this.timer) this.timer = setTimeout(() => this.kick(true), this.options.flushMs);
    if (this.pending.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private startFlush(): void {
    // Take whole jobs up to about batchSize events.
    const jobs: PendingJob[] = [];
    let n = 0;
    while (this.pending.length > 0 && (jobs.length === 0 || n + this.pending[0]!.events.length <= this.options.batchSize)) {
      const job = this.pending.shift()!;
      n += job.events.length + job.deadLetters.length;
      jobs.push(job);
    }
    this.pendingEvents -= n;
    this.running++;
    const p = this.options
      .write(jobs)
      .then(
        () => jobs.forEach((j) => j.resolve()),
        (err: unknown) => jobs.forEach((j) => j.reject(err instanceof Error ? err : new Error(String(err)))),
      )
      .finally(() => {
        this.running--;
        this.inFlight.delete(p);
        this.kick(this.pending.length > 0 && this.pendingEvents >= this.options.batchSize);
      });
    this.inFlight.add(p);
  }
}
