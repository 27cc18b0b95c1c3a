import { Router, type ErrorRequestHandler } from 'express';
import type { IdentityContext } from '../context';
import { OAuthError, sendOAuthError } from './errors';
import { tokenEndpoint } from './token-endpoint';
import { introspectEndpoint } from './introspect-endpoint';
import { revokeEndpoint } from './revoke-endpoint';

/** The OAuth endpoints, mounted at /oauth; their errors are RFC 6749 JSON, not problem+json. */
export function oauthRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.post('/token', tokenEndpoint(ctx));
  router.post('/introspect', introspectEndpoint(ctx));
  router.post('/revoke', revokeEndpoint(ctx));
  const oauthErrors: ErrorRequestHandler = (err, _req, res, next) => {
    if (err instanceof OAuthError) sendOAuthError(res, err);
    else next(err);
  };
  router.use(oauthErrors);
  return router;
}
