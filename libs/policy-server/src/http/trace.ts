import type { IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE = '00000000000000000000000000000000';

/** The trace and span ids of the request: the active OTel span, else the W3C traceparent header. */
export function traceIds(req: IncomingMessage): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (span) {
    const ctx = span.spanContext();
    if (ctx.traceId && ctx.traceId !== ZERO_TRACE) return { trace_id: ctx.traceId, span_id: ctx.spanId };
  }
  const header = req.headers.traceparent;
  const m = typeof header === 'string' ? TRACEPARENT.exec(header) : null;
  return m && m[1] !== ZERO_TRACE ? { trace_id: m[1], span_id: m[2] } : {};
}
