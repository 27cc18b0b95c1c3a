import type { ErrorRequestHandler } from 'express';
import { HttpProblem, sendProblem } from '@cloud-stack/service-kit';
import { RouteValidationError, RoutingError } from '@cloud-stack/gateway-routing';

const STATUS_BY_CODE = {
  invalid_routes: 422,
  version_not_found: 404,
  route_not_found: 404,
  version_not_editable: 409,
  no_previous_version: 409,
} as const;

/** The error a failed admin request answers with: routing errors by code, body-parser errors by status. */
export function toProblem(err: unknown): HttpProblem | null {
  if (err instanceof HttpProblem) return err;
  if (err instanceof RouteValidationError) {
    return new HttpProblem(422, err.message, { extensions: { code: err.code, errors: err.issues } });
  }
  if (err instanceof RoutingError) return new HttpProblem(STATUS_BY_CODE[err.code], err.message, { extensions: { code: err.code } });
  // body-parser's errors carry the status to answer with (400 bad JSON, 413 too large, 415 charset).
  const status = (err as { status?: unknown; type?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof (err as { type?: unknown }).type === 'string') {
    return new HttpProblem(status, (err as Error).message);
  }
  return null;
}

/**
 * Answers what the admin API knows how to explain; anything else goes on to the app's error
 * handler, which answers a dependency outage (a cut database connection) 503 and the rest 500.
 */
export function problemHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    const problem = toProblem(err);
    if (problem) {
      res.locals.errorCode = (problem.extensions.code as string | undefined) ?? `http_${problem.status}`;
      return sendProblem(req, res, problem);
    }
    res.locals.errorCode = 'internal_error';
    next(err);
  };
}
