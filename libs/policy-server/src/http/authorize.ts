import type { Request, RequestHandler } from 'express';
import type { Authorizer } from '../authz/authorize';
import { OpaHttpError } from '../opa/errors';
import { refuseDeepJson } from './json-depth';

/**
 * `input.body` for the requests whose body the authorizer reads before them (readBody ran first
 * for them: POST /v1/compile); absent for an empty body, as OPA's authorizer leaves it out. A body
 * that is not JSON is refused with 400, as OPA's authorizer refuses one it cannot decode.
 */
function bodyInput(req: Request): unknown {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return undefined;
  const text = req.body.toString('utf8');
  refuseDeepJson(text, 'error(s) occurred while decoding request');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw OpaHttpError.badRequest(err instanceof Error ? err.message : String(err));
  }
}

/** Express side of system.authz: first after the correlation id, so no route answers unchecked. */
export function authorizeRequests(authorize: Authorizer): RequestHandler {
  return (req, _res, next) => {
    try {
      const body = bodyInput(req);
      authorize({ req, pathname: req.path, query: req.query, ...(body === undefined ? {} : { body }) });
      next();
    } catch (err) {
      next(err);
    }
  };
}
