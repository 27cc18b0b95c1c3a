import type { IncomingHttpHeaders } from 'node:http';
import { randomFillSync } from 'node:crypto';
import { acceptCorrelationId, parseTraceparent } from '@cloud-stack/service-kit';

/** The ids that tie a request to its causes, its trace and its audit events. */
export interface Correlation {
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly traceId: string;
  /** The W3C traceparent the gateway sends upstream and echoes: the caller's trace, a new span. */
  readonly traceparent: string;
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Span and trace ids come from a pooled CSPRNG buffer, as uuidv7 does: one randomBytes per id is
// the most expensive thing this module would do.
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/**
 * Reads X-Correlation-ID, X-Causation-ID and traceparent: well-formed values are kept, anything
 * else is replaced (a correlation id is made, a causation id dropped, a new trace started).
 */
export function readCorrelation(headers: IncomingHttpHeaders): Correlation {
  const correlationId = acceptCorrelationId(headers['x-correlation-id']);
  const causation = headers['x-causation-id'];
  const parent = parseTraceparent(headers.traceparent);
  const traceId = parent?.traceId ?? randomHex(16);
  return {
    correlationId,
    causationId: typeof causation === 'string' && SAFE_ID.test(causation) ? causation : null,
    traceId,
    traceparent: `00-${traceId}-${randomHex(8)}-${parent?.flags ?? '01'}`,
  };
}
