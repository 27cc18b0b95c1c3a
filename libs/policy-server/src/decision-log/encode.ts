import { toAuditEvent } from './audit-event';
import { maskEntry, type MaskRule } from './mask';
import type { DecisionLogShipping } from './shipping';
import type { DecisionLogEntry } from './types';

/**
 * How the request thread encodes one masked entry for the worker, by where it ships. The audit
 * queue takes the audit event's JSON as it is: the worker only batches, compresses and enqueues,
 * where parsing the entry back and building the event there cost it ~17 µs a decision, in bursts
 * that lengthened the decision's tail at one connection (bench:policy). A remote log service takes
 * the entry's JSON, which the worker reads back into OPA's event shape.
 */
export function entryEncoder(kind: DecisionLogShipping['kind'], rules: readonly MaskRule[]): (entry: DecisionLogEntry) => string {
  return kind === 'audit-queue' ? (entry) => JSON.stringify(toAuditEvent(maskEntry(rules, entry))) : (entry) => JSON.stringify(maskEntry(rules, entry));
}
