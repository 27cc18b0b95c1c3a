import { createAuditProducer, type AuditProducer } from '@cloud-stack/audit-producer';
import type { Logger, MetricsRegistry } from '@cloud-stack/service-kit';
import { toAuditEvent } from './audit-event';
import type { DecisionLogEntry, DecisionLogSink } from './types';

export interface AuditQueueSinkOptions {
  readonly redisUrl: string;
  /** BullMQ key prefix (default `bull`); tests use one per file. */
  readonly prefix?: string;
  /**
   * Events per BullMQ job (the producer's `maxBatch`, default its own): a job is serialised in one
   * turn of the event loop, so with the logger's slice this bounds what a decision waits behind.
   */
  readonly maxBatch?: number;
  /** Attempts of one enqueue before the batch is dropped and counted (the producer's `addAttempts`). */
  readonly attempts?: number;
  /** Flushing or closing waits at most this long for Redis to take what is left. */
  readonly closeTimeoutMs?: number;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
}

function within(ms: number, work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Hands decision logs to the shared audit producer (@cloud-stack/audit-producer), which groups
 * them into BullMQ jobs on the `audit` queue (`AuditBatch`): each event is a `policy_decision`
 * audit event carrying the rest of the OPA-shaped entry under `details.decision_log`.
 */
export function auditQueueDecisionLogSink(options: AuditQueueSinkOptions): DecisionLogSink & { readonly producer: AuditProducer } {
  const producer = createAuditProducer({
    connection: options.redisUrl,
    prefix: options.prefix,
    addAttempts: options.attempts,
    maxBatch: options.maxBatch,
    logger: options.logger,
    metrics: options.metrics,
  });
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  return {
    producer,
    async send(entries) {
      let rejected = 0;
      for (const e of entries) if (!producer.emit(toAuditEvent(e))) rejected++;
      if (rejected) throw new Error(`the audit producer refused ${rejected} decision log(s)`);
    },
    flush: () => within(closeTimeoutMs, producer.flush()),
    close: () => within(closeTimeoutMs, producer.close()),
  };
}

/** Writes each entry as one JSON log line (OPA's `decision_logs.console`). */
export function consoleDecisionLogSink(logger: Logger): DecisionLogSink {
  return {
    async send(entries: readonly DecisionLogEntry[]) {
      for (const e of entries) logger.info({ decision_log: e }, 'decision');
    },
    close: async () => undefined,
  };
}

export function noopDecisionLogSink(): DecisionLogSink {
  return { send: async () => undefined, close: async () => undefined };
}
