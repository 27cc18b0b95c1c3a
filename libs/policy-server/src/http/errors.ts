import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@cloud-stack/service-kit';
import { OpaHttpError } from '../opa/errors';
import { boolParam, sendJson } from './respond';

interface HttpError {
  status?: number;
  expose?: boolean;
}

/** OPA's 404 for paths the API does not have. */
export function opaNotFound(): RequestHandler {
  return (_req, _res, next) => next(OpaHttpError.notFound('not found'));
}

/** Answers `err` as OPA's `{code, message, errors?}`; internals stay in the log. */
export function sendOpaError(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger, pretty: boolean, correlationId?: string): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  let out: OpaHttpError;
  const http = err as HttpError;
  if (err instanceof OpaHttpError) out = err;
  // Express's own client errors (a route parameter that does not decode, say).
  else if (http?.expose && typeof http.status === 'number' && http.status >= 400 && http.status < 500)
    out = new OpaHttpError(http.status, 'invalid_parameter', 'malformed request');
  else out = OpaHttpError.internal('an internal error occurred');
  if (out.status >= 500) logger.error({ err, correlation_id: correlationId }, out.message);
  sendJson(res, out.status, out.wire, pretty);
}

/** Last in the Express chain: every error through sendOpaError. */
export function opaErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => sendOpaError(req, res, err, logger, boolParam(req.query, 'pretty'), req.correlationId);
}
