import type { RequestHandler } from 'express';
import type { IdentityContext } from '../context';
import { sha256Hex } from '../crypto/hash';
import { OAuthError, noStore } from './errors';
import { looksLikeJwt } from './introspect-endpoint';
import { formParams, required } from './params';

/**
 * POST /oauth/revoke (RFC 7009). Access tokens are revoked by `jti` until they expire; a refresh
 * token revokes its whole family with the access tokens issued in it. Unknown, expired or
 * foreign-issuer tokens still answer 200 (§2.2). Each revocation is published on Redis.
 */
export function revokeEndpoint(ctx: IdentityContext): RequestHandler {
  return async (req, res) => {
    noStore(res);
    const params = formParams(req);
    const { client } = await ctx.clientAuth.authenticate(req.get('authorization'), params);
    const token = required(params, 'token');
    const owns = (clientId: string) => client.trusted || clientId === client.client_id;

    if (looksLikeJwt(token)) {
      const claims = ctx.accessTokens.decodeOwn(token);
      if (claims && typeof claims.jti === 'string' && typeof claims.exp === 'number') {
        if (!owns(claims.client_id)) throw new OAuthError('unauthorized_client', 'the token was issued to another client');
        await ctx.revocations.revoke(claims.jti, claims.exp, sha256Hex(token));
      }
    } else {
      const row = await ctx.refreshTokens.find(token);
      if (row) {
        if (!owns(row.client_id)) throw new OAuthError('unauthorized_client', 'the token was issued to another client');
        await ctx.refreshTokens.revokeFamily(row.family_id);
      }
    }
    res.status(200).end();
  };
}
