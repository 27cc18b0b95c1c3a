import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { opaHttpSink } from './opa-http-sink';
import { lowerThreadPriority } from './thread-priority';
import { WORKER_KIND, type DecisionLogShipping, type DecisionLogWorkerData, type FromWorker, type ShippingProgress, type ToWorker } from './shipping';
import type { DecisionLogEntry } from './types';

/** The sink as the worker drives it: takes encoded entries, reports what became of them. */
export interface Shipper {
  /** Entries as the request thread encoded them for this sink (see entryEncoder). */
  add(json: readonly string[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  progress(): Omit<ShippingProgress, 'failed'>;
}

/**
 * Log lines go to the request thread's logger: the worker loads no logging stack of its own
 * (service-kit's takes seconds to load on a busy machine, and its output would interleave).
 */
export type WorkerLog = (level: 'warn' | 'error', msg: string, fields?: unknown) => void;

/** Fields as plain data (errors as their message and stack), so they cross to the request thread. */
function plain(fields: unknown): Record<string, unknown> | undefined {
  if (typeof fields !== 'object' || fields === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : typeof value === 'object' ? String(value) : value;
  }
  return out;
}

async function openShipper(shipping: DecisionLogShipping, log: WorkerLog): Promise<Shipper> {
  switch (shipping.kind) {
    case 'audit-queue': {
      const { auditQueueShipper } = await import('./audit-queue-shipper');
      return auditQueueShipper(shipping.options, log);
    }
    case 'opa-http': {
      let lastError = '';
      const sink = opaHttpSink({
        ...shipping.options,
        onUploadError: (err) => {
          // One line per kind of failure, not one per retry.
          if (err.message !== lastError) log('warn', 'decision log upload failed; retrying with backoff', { err });
          lastError = err.message;
        },
      });
      return { add: (json) => sink.add(json.map((entry) => JSON.parse(entry) as DecisionLogEntry)), flush: () => sink.flush(), close: () => sink.close(), progress: () => sink.stats() };
    }
  }
}


/** True in the thread a DecisionLogger started to ship its entries. */
export function isDecisionLogWorker(): boolean {
  return !isMainThread && (workerData as Partial<DecisionLogWorkerData> | null)?.kind === WORKER_KIND;
}

/**
 * The worker thread's side: hands the encoded entries the request thread posts to the sink (which
 * batches, compresses and does the I/O here, off the request thread) and reports progress, so the
 * request thread can bound what is held and count what was shipped or lost. Runs until the
 * request thread terminates the worker: the promise never settles, so an app entry that is also
 * the worker's (a bundle) can await it and stop there.
 */
export function runDecisionLogWorker(): Promise<never> {
  if (!isDecisionLogWorker()) throw new Error('runDecisionLogWorker must run in the decision-log worker thread');
  const data = workerData as DecisionLogWorkerData;
  // The sidecar answers on one thread and this one takes what is left of the CPUs: at a lower
  // priority, the request thread never waits behind its bursts (a 500-entry job is serialised and
  // compressed at once). See DEFAULT_WORKER_NICE.
  lowerThreadPriority(data.nice);
  const port = parentPort as MessagePort;
  const send = (message: FromWorker) => port.postMessage(message);
  const log: WorkerLog = (level, msg, fields) => send({ type: 'log', level, msg, fields: plain(fields) });
  let failed = 0;
  // Messages that arrive while the sink opens wait for it, in order.
  const opening = openShipper(data.shipping, log);
  let shipper: Shipper | undefined;
  const progress = (): ShippingProgress => ({ ...(shipper?.progress() ?? { shipped: 0, dropped: 0 }), failed });

  let last = '';
  const report = () => {
    const p = progress();
    const now = `${p.shipped}/${p.dropped}/${p.failed}`;
    if (now === last) return;
    last = now;
    send({ type: 'progress', ...p });
  };
  const reporter = setInterval(report, 50);

  const handle = (s: Shipper, message: ToWorker): void => {
    switch (message.type) {
      case 'entries':
        try {
          s.add(message.json);
        } catch (err) {
          failed += message.json.length;
          log('warn', 'decision log entries lost', { err, entries: message.json.length });
        }
        break;
      case 'flush':
        void s.flush().finally(() => send({ type: 'flushed', id: message.id, ...progress() }));
        break;
      case 'close':
        clearInterval(reporter);
        void s.close().finally(() => send({ type: 'closed', ...progress() }));
        break;
    }
  };
  port.on('message', (message: ToWorker) => void opening.then((s) => handle(s, message)));
  void opening.then(
    (s) => {
      shipper = s;
      send({ type: 'ready' });
    },
    (err: unknown) => {
      // Without a sink the worker is of no use: ending it makes the request thread drop and count.
      log('error', 'decision log sink could not be opened', { err });
      process.exit(1);
    },
  );
  return new Promise<never>(() => undefined);
}
