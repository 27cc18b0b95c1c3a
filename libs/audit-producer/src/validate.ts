import { UUID_PATTERN, type AuditEventInput } from '@cloud-stack/contracts';

/**
 * The cheap check `emit` runs on the caller's hot path: shape only, no full schema parse (the
 * writer validates every event with AuditEventSchema and dead-letters what fails). Returns the
 * reason an event is unusable, or undefined.
 */
export function cheapReject(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'event is not an object';
  const e = event as Partial<Record<keyof AuditEventInput, unknown>>;
  if (typeof e.event_id !== 'string' || !UUID_PATTERN.test(e.event_id)) return 'event_id is not a UUID';
  if (typeof e.occurred_at !== 'string' || Number.isNaN(Date.parse(e.occurred_at))) return 'occurred_at is not a timestamp';
  if (typeof e.correlation_id !== 'string' || e.correlation_id.length === 0) return 'correlation_id is missing';
  return undefined;
}
