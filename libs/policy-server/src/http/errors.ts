import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@cloud-stack/service-kit';
import { OpaHttpError } from '../opa/errors';
import { boolParam, sendJson } from './respond';

interface ParserError {
  type?: string;
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
  const parser = err as ParserError;
  if (err instanceof OpaHttpError) out = err;
  else if (parser?.type === 'entity.too.large') out = new OpaHttpError(413, 'invalid_parameter', 'request body too large');
  else if (parser?.type === 'encoding.unsupported' || parser?.type === 'charset.unsupported')
    out = new OpaHttpError(415, 'invalid_parameter', 'unsupported content encoding');
  else if (parser?.expose && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500)
    out = new OpaHttpError(parser.status, 'invalid_parameter', 'malformed request');
  else out = OpaHttpError.internal('an internal error occurred');
  if (out.status >= 500) logger.error({ err, correlation_id: correlationId }, out.message);
  sendJson(res, out.status, out.wire, pretty);
}

/** Last in the Express chain: every error through sendOpaError. */
export function opaErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => sendOpaError(req, res, err, logger, boolParam(req.query, 'pretty'), req.correlationId);
}
