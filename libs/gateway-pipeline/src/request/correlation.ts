import type { IncomingHttpHeaders } from 'node:http';
import { randomFillSync } from 'node:crypto';
import { acceptCorrelationId } from '@cloud-stack/service-kit';

/** The ids that tie a request to its causes, its trace and its audit events. */
export interface Correlation {
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly traceId: string;
  /** The W3C traceparent the gateway sends upstream and echoes: the caller's trace, a new span. */
  readonly traceparent: string;
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

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

/** Parses a W3C traceparent (version 00); undefined when absent or malformed (then a new trace starts). */
export function parseTraceparent(header: string | string[] | undefined): { traceId: string; flags: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1]!, flags: m[3]! };
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
