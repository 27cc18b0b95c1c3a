import { Router, type ErrorRequestHandler } from 'express';
import type { IdentityContext } from '../context';
import { OAuthError, sendOAuthError } from './errors';
import { tokenEndpoint, tokenIssuer, type IssueToken } from './token-endpoint';
import { introspectEndpoint, introspection, type Introspect } from './introspect-endpoint';
import { revokeEndpoint } from './revoke-endpoint';
import { authorizeRouter } from './authorize-endpoint';
import { redirectOriginCors } from './cors';

/** The OAuth operations the hot path and Express share (built once: they register metrics). */
export interface OAuthOperations {
  readonly introspect: Introspect;
  readonly issueToken: IssueToken;
}

export function oauthOperations(ctx: IdentityContext): OAuthOperations {
  return { introspect: introspection(ctx), issueToken: tokenIssuer(ctx) };
}

/** Turns an OAuthError into its RFC 6749 JSON answer; anything else goes on. */
export const oauthErrors: ErrorRequestHandler = (err, _req, res, next) => {
  if (err instanceof OAuthError) sendOAuthError(res, err);
  else next(err);
};

/** The OAuth endpoints, mounted at /oauth; their errors are RFC 6749 JSON, not problem+json. */
export function oauthRouter(ctx: IdentityContext, operations: OAuthOperations): Router {
  const router = Router();
  router.use(authorizeRouter(ctx));
  router.use(['/token', '/revoke'], redirectOriginCors(ctx));
  router.post('/token', tokenEndpoint(operations.issueToken));
  router.post('/introspect', introspectEndpoint(operations.introspect));
  router.post('/revoke', revokeEndpoint(ctx));
  router.use(oauthErrors);
  return router;
}
