import type { RequestHandler } from 'express';
import type { Authorizer } from '../authz/authorize';

/** Express side of system.authz: first after the correlation id, so no route answers unchecked. */
export function authorizeRequests(authorize: Authorizer): RequestHandler {
  return (req, _res, next) => {
    try {
      authorize({ req, pathname: req.path, query: req.query });
      next();
    } catch (err) {
      next(err);
    }
  };
}
