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

/** Accepts a well-formed X-Correlation-ID (or makes one) and echoes it on the response. */
export function correlationId(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-correlation-id');
    req.correlationId = given && SAFE_ID.test(given) ? given : uuidv7();
    res.setHeader('X-Correlation-ID', req.correlationId);
    next();
  };
}
