import type { RequestHandler } from 'express';
import { uuidv7, type Role } from '@cloud-stack/contracts';
import type { IdentityContext } from '../context';
import { sha256Hex } from '../crypto/hash';
import { GRANT_TYPES, type ClientRow, type GrantType } from '../directory/clients';
import { effectiveRoles } from '../directory/users';
import type { IssuedAccessToken, TokenSubject } from '../tokens/access-token';
import { AuthorizationCodes } from '../tokens/authorization-codes';
import { OAuthError, noStore } from './errors';
import { formBody, nonEmpty, required, resolveScope } from './params';
import { verifierMatches } from './pkce';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

const INVALID_CREDENTIALS = 'invalid username or password';
const LOCKED_OUT = 'too many failed sign-ins for this username; try again later';

function userSubject(
  user: { id: string; tenant_id: string; email: string; is_governor: boolean; trial_mode: boolean; agent_id: string | null },
  roles: readonly string[],
  clientId: string,
  scope: string,
): TokenSubject {
  return {
    sub: user.id,
    client_id: clientId,
    scope,
    tenant_id: user.tenant_id,
    roles: effectiveRoles(roles),
    is_governor: user.is_governor,
    trial_mode: user.trial_mode,
    agent_id: user.agent_id,
    email: user.email,
  };
}

function respond(issued: IssuedAccessToken, refreshToken?: string): TokenResponse {
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.claims.exp - issued.claims.iat,
    scope: issued.claims.scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/** One token request: the Authorization header and the form fields in, the token response out. */
export type IssueToken = (authorization: string | undefined, fields: Readonly<Record<string, string>>) => Promise<TokenResponse>;

/**
 * The token endpoint (RFC 6749 §4.1.3, §4.3, §4.4, §6): authorization_code (with PKCE, RFC 7636),
 * password, client_credentials, refresh_token.
 * Shared by the node:http hot path and Express.
 */
export function tokenIssuer(ctx: IdentityContext): IssueToken {
  const issued = ctx.metrics.counter('identity_tokens_issued_total', 'Access tokens issued, by grant type');
  const lockedOut = ctx.metrics.counter('identity_login_locked_total', 'Password sign-ins refused because the username is locked');

  const refreshFor = async (client: ClientRow, grant: { familyId?: string; userId: string; tenantId: string; scope: string }, access: IssuedAccessToken, db = ctx.db) => {
    if (!client.grant_types.includes('refresh_token')) return undefined;
    const { token } = await ctx.refreshTokens.issue(
      { ...grant, clientId: client.client_id, access: { jti: access.claims.jti, exp: access.claims.exp, sha256: sha256Hex(access.token) } },
      db,
    );
    return token;
  };

  const password = async (client: ClientRow, params: Record<string, string>): Promise<TokenResponse> => {
    const username = required(params, 'username');
    const secret = required(params, 'password');
    const scope = resolveScope(params.scope, client.scopes);
    const failures = await ctx.loginThrottle.failures(username);
    if (ctx.loginThrottle.isLocked(failures)) {
      lockedOut.inc();
      throw new OAuthError('invalid_grant', LOCKED_OUT);
    }
    const found = await ctx.users.findForLogin(username);
    // An unknown user costs the same scrypt as a wrong password, and gets the same answer.
    const ok = found ? await ctx.hasher.verify(secret, found.user.password_hash) : await ctx.hasher.verifyDummy(secret);
    if (!found || !ok) {
      await ctx.loginThrottle.failed(username);
      throw new OAuthError('invalid_grant', INVALID_CREDENTIALS);
    }
    if (failures > 0) await ctx.loginThrottle.succeeded(username);
    // A tenant's client signs in only that tenant's users; platform clients sign in anyone.
    if (found.user.tenant_id !== client.tenant_id && !(await ctx.tenants.isPlatform(client.tenant_id))) {
      throw new OAuthError('invalid_grant', INVALID_CREDENTIALS);
    }
    const access = ctx.accessTokens.issue(userSubject(found.user, found.roles, client.client_id, scope));
    const refresh = await refreshFor(client, { userId: found.user.id, tenantId: found.user.tenant_id, scope }, access);
    return respond(access, refresh);
  };

  const codes = new AuthorizationCodes(ctx.db, ctx.refreshTokens, ctx.revocations);
  const INVALID_CODE = 'the authorization code is invalid, expired or already used';

  const authorizationCode = async (client: ClientRow, params: Record<string, string>): Promise<TokenResponse> => {
    const code = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const verifier = required(params, 'code_verifier');
    const result = await codes.redeem(code, async (row, trx) => {
      // §4.1.3: the code's client and redirect URI; RFC 7636 §4.6: the verifier of its challenge.
      if (row.client_id !== client.client_id || row.redirect_uri !== redirectUri || !verifierMatches(verifier, row.code_challenge)) return undefined;
      const found = await ctx.users.findActive(row.user_id);
      if (!found) return undefined;
      const access = ctx.accessTokens.issue(userSubject(found.user, found.roles, client.client_id, row.scope));
      const familyId = client.grant_types.includes('refresh_token') ? uuidv7() : null;
      const refresh = familyId ? await refreshFor(client, { familyId, userId: row.user_id, tenantId: row.tenant_id, scope: row.scope }, access, trx) : undefined;
      return { value: respond(access, refresh), issued: { familyId, access: { jti: access.claims.jti, exp: access.claims.exp, sha256: sha256Hex(access.token) } } };
    });
    if (!result.ok) {
      if (result.reason === 'reused') ctx.logger.warn({ client_id: client.client_id }, 'authorization code reused: tokens issued from it revoked');
      throw new OAuthError('invalid_grant', INVALID_CODE);
    }
    return result.value;
  };

  const clientCredentials = async (client: ClientRow, params: Record<string, string>): Promise<TokenResponse> => {
    if (client.client_type !== 'confidential') throw new OAuthError('unauthorized_client', 'client_credentials needs a confidential client');
    const scope = resolveScope(params.scope, client.scopes);
    const access = ctx.accessTokens.issue({
      sub: client.client_id,
      client_id: client.client_id,
      scope,
      tenant_id: client.tenant_id,
      roles: effectiveRoles(client.roles) as Role[],
      is_governor: false,
      trial_mode: false,
      agent_id: null,
      email: null,
    });
    return respond(access);
  };

  const refreshToken = async (client: ClientRow, params: Record<string, string>): Promise<TokenResponse> => {
    const presented = required(params, 'refresh_token');
    let scopeError: OAuthError | undefined;
    const result = await ctx.refreshTokens.exchange(presented, client.client_id, async (row, trx) => {
      const granted = row.scope.split(' ').filter(Boolean);
      let scope: string;
      try {
        scope = params.scope === undefined ? row.scope : resolveScope(params.scope, granted);
      } catch (err) {
        scopeError = err as OAuthError;
        return undefined;
      }
      const found = await ctx.users.findActive(row.user_id);
      if (!found) return undefined;
      const access = ctx.accessTokens.issue(userSubject(found.user, found.roles, client.client_id, scope));
      const refresh = await refreshFor(client, { familyId: row.family_id, userId: row.user_id, tenantId: row.tenant_id, scope: row.scope }, access, trx);
      return respond(access, refresh);
    });
    if (scopeError) throw scopeError;
    if (!result.ok) {
      if (result.reason === 'reused') ctx.logger.warn({ client_id: client.client_id }, 'refresh token reused: family revoked');
      throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked');
    }
    return result.value;
  };

  const grants: Record<GrantType, (client: ClientRow, params: Record<string, string>) => Promise<TokenResponse>> = {
    authorization_code: authorizationCode,
    password,
    client_credentials: clientCredentials,
    refresh_token: refreshToken,
  };

  const grantLabels = Object.fromEntries(GRANT_TYPES.map((g) => [g, { grant_type: g }])) as Record<GrantType, { grant_type: string }>;

  return async (authorization, fields) => {
    const params = nonEmpty(fields);
    const grantType = required(params, 'grant_type');
    const { client } = await ctx.clientAuth.authenticate(authorization, params);
    if (!(GRANT_TYPES as readonly string[]).includes(grantType)) throw new OAuthError('unsupported_grant_type', `grant type ${grantType} is not supported`);
    if (!client.grant_types.includes(grantType)) throw new OAuthError('unauthorized_client', `this client may not use ${grantType}`);
    const body = await grants[grantType as GrantType](client, params);
    issued.inc(grantLabels[grantType as GrantType]);
    return body;
  };
}

/** POST /oauth/token on Express (requests the hot path leaves to it). */
export function tokenEndpoint(issue: IssueToken): RequestHandler {
  return async (req, res) => {
    noStore(res);
    const body = await issue(req.get('authorization'), formBody(req));
    res.status(200).json(body);
  };
}
