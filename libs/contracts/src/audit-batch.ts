import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AuditBatch } from './audit';

/** Most bytes `events_deflated` may inflate to: a bound against a decompression bomb in the queue. */
export const AUDIT_BATCH_MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** A batch's events as `events_deflated`: one JSON array, raw DEFLATE (RFC 1951), base64. */
export function deflateAuditEvents(events: readonly unknown[]): string {
  return deflateRawSync(JSON.stringify(events), { level: 1 }).toString('base64');
}

/** The events a batch carries, plain or deflated; throws when `events_deflated` is not a deflated, non-empty JSON array. */
export function auditBatchEvents(batch: AuditBatch): readonly unknown[] {
  if (batch.events) return batch.events;
  const json = inflateRawSync(Buffer.from(batch.events_deflated ?? '', 'base64'), { maxOutputLength: AUDIT_BATCH_MAX_INFLATED_BYTES }).toString('utf8');
  const events: unknown = JSON.parse(json);
  if (!Array.isArray(events) || events.length === 0) throw new Error('events_deflated is not a non-empty JSON array');
  return events;
}
