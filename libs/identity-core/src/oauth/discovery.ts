import { Router } from 'express';
import type { IdentityContext } from '../context';
import { GRANT_TYPES } from '../directory/clients';

/** GET /.well-known/jwks.json, /.well-known/openid-configuration (and RFC 8414's name for it). */
export function discoveryRouter(ctx: IdentityContext): Router {
  const router = Router();
  const issuer = ctx.config.ISSUER.replace(/\/$/, '');
  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256'],
    id_token_signing_alg_values_supported: ['ES256'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'aud', 'exp', 'iat', 'jti', 'sub', 'client_id', 'scope', 'tenant_id', 'roles', 'is_governor', 'trial_mode', 'agent_id', 'email'],
  };
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.json(ctx.keys.jwks());
  });
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    router.get(path, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json(metadata);
    });
  }
  return router;
}
