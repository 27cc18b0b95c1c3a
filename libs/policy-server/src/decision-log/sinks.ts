import type { Logger } from '@cloud-stack/service-kit';
import type { DecisionLogEntry, DecisionLogSink } from './types';

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
