import type { OpaHttpSinkOptions } from './opa-http-sink';

/** The audit queue as a shipping target (the options of the audit producer the worker opens). */
export interface AuditQueueShipping {
  readonly redisUrl: string;
  /** BullMQ key prefix (default `bull`); tests use one per file. */
  readonly prefix?: string;
  /** Events per BullMQ job (the producer's `maxBatch`). */
  readonly maxBatch?: number;
  /** How long the first event of a job waits for company (the producer's `lingerMs`). */
  readonly lingerMs?: number;
  /** Attempts of one enqueue before the batch is dropped and counted (the producer's `addAttempts`). */
  readonly attempts?: number;
  /** Flushing or closing waits at most this long for Redis to take what is left. */
  readonly closeTimeoutMs?: number;
}

/**
 * Where a worker-thread decision logger ships: plain data, because it crosses into the worker
 * (workerData), where the sink itself is opened.
 */
export type DecisionLogShipping =
  | { readonly kind: 'audit-queue'; readonly options: AuditQueueShipping }
  | { readonly kind: 'opa-http'; readonly options: Omit<OpaHttpSinkOptions, 'onUploadError'> };

/** What the worker has done with the entries it was given, counted since it started. */
export interface ShippingProgress {
  readonly shipped: number;
  readonly dropped: number;
  readonly failed: number;
}

export interface DecisionLogWorkerData {
  readonly kind: typeof WORKER_KIND;
  readonly shipping: DecisionLogShipping;
  /** The worker thread's nice value. */
  readonly nice: number;
}

/**
 * The worker's default nice value. Above 0 a decision does not wait behind the worker's bursts
 * (with the worker at 0, the decision p99 at one connection was ~0.9 ms, at 5 ~0.6 ms, at 19
 * ~0.5 ms, without logs ~0.45 ms; bench:policy's sidecar in an A/B of 8 alternating rounds). At 10
 * and more the worker starved at SIGTERM on a machine saturated by other processes, and the last
 * decision logs missed the close timeout; at 5 they did not.
 */
export const DEFAULT_WORKER_NICE = 5;

export const WORKER_KIND = 'cloud-stack/decision-log-shipper';

export type ToWorker =
  /** Masked entries, each encoded for the target (see entryEncoder), handed over every few milliseconds. */
  | { readonly type: 'entries'; readonly json: readonly string[] }
  | { readonly type: 'flush'; readonly id: number }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly level: 'warn' | 'error'; readonly msg: string; readonly fields?: Record<string, unknown> }
  | ({ readonly type: 'progress' } & ShippingProgress)
  | ({ readonly type: 'flushed'; readonly id: number } & ShippingProgress)
  | ({ readonly type: 'closed' } & ShippingProgress);
