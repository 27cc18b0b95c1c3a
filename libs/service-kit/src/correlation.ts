import type { RequestHandler } from 'express';
import { uuidv7 } from '@cloud-stack/contracts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's correlation id: the caller's X-Correlation-ID, or a fresh UUIDv7. */
    correlationId: string;
  }
}

// Header values are echoed back and logged, so only accept ids that cannot smuggle anything.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Correlation-ID header value when it is well formed, else a fresh UUIDv7. */
export function acceptCorrelationId(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_ID.test(header) ? header : uuidv7();
}

/** Accepts a well-formed X-Correlation-ID (or makes one) and echoes it on the response. */
export function correlationId(): RequestHandler {
  return (req, res, next) => {
    req.correlationId = acceptCorrelationId(req.headers['x-correlation-id']);
    res.setHeader('X-Correlation-ID', req.correlationId);
    next();
  };
}
