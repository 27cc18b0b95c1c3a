import type { IncomingHttpHeaders } from 'node:http';
import { trace } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** A W3C traceparent (version 00); undefined when absent, malformed or all-zero. */
export function parseTraceparent(header: string | string[] | undefined): { traceId: string; spanId: string; flags: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

/**
 * The trace a request belongs to: the active span's when OpenTelemetry runs one, else the caller's
 * `traceparent`. The one place trace ids are read for logs and audit events.
 */
export function traceOf(headers: IncomingHttpHeaders): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && span.traceId !== ZERO_TRACE) return { trace_id: span.traceId, span_id: span.spanId };
  const parent = parseTraceparent(headers.traceparent);
  return parent && { trace_id: parent.traceId, span_id: parent.spanId };
}
