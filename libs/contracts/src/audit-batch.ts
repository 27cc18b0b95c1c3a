import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AuditBatch } from './audit';

/** Most bytes `events_deflated` may inflate to: a bound against a decompression bomb in the queue. */
export const AUDIT_BATCH_MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * A batch's events as `events_deflated`: one JSON array, raw DEFLATE (RFC 1951), base64. Takes
 * each event already as JSON (a producer encodes an event when it is emitted and holds the string,
 * not the object graph, until its batch goes). The array is written as UTF-8 straight into one
 * buffer: joining the strings first makes a rope that V8 flattens and encodes at ~10× the cost.
 */
export function deflateAuditEvents(encoded: readonly string[]): string {
  // Brackets and commas, then each event's UTF-8 bytes.
  let bytes = 1 + Math.max(encoded.length, 1);
  for (const json of encoded) bytes += Buffer.byteLength(json);
  const array = Buffer.allocUnsafe(bytes);
  array[0] = 0x5b;
  let at = 1;
  for (let i = 0; i < encoded.length; i++) {
    if (i > 0) array[at++] = 0x2c;
    at += array.write(encoded[i]!, at, 'utf8');
  }
  array[at] = 0x5d;
  return deflateRawSync(array, { level: 1 }).toString('base64');
}

/** The events a batch carries, plain or deflated; throws when `events_deflated` is not a deflated, non-empty JSON array. */
export function auditBatchEvents(batch: AuditBatch): readonly unknown[] {
  if (batch.events) return batch.events;
  const json = inflateRawSync(Buffer.from(batch.events_deflated ?? '', 'base64'), { maxOutputLength: AUDIT_BATCH_MAX_INFLATED_BYTES }).toString('utf8');
  const events: unknown = JSON.parse(json);
  if (!Array.isArray(events) || events.length === 0) throw new Error('events_deflated is not a non-empty JSON array');
  return events;
}
