import type { RequestHandler } from 'express';
import type { ActiveIntrospection, IntrospectionResponse } from '@cloud-stack/contracts';
import type { IdentityContext } from '../context';
import type { ClientRow } from '../directory/clients';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { noStore } from './errors';
import { formBody, nonEmpty, required } from './params';

const INACTIVE: IntrospectionResponse = { active: false };
const ACTIVE_LABELS = { active: 'true' };
const INACTIVE_LABELS = { active: 'false' };

/** True for the compact serialization of a JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

/** One introspection: the Authorization header and the form fields in, the RFC 7662 answer out. */
export type Introspect = (authorization: string | undefined, fields: Readonly<Record<string, string>>) => Promise<IntrospectionResponse>;

/**
 * Introspection (RFC 7662). Needs an authenticated confidential client; a trusted client (the
 * gateway) learns about any token, others only about their own. Whatever is not a currently valid
 * token of this issuer is `{"active": false}`. Shared by the node:http hot path and Express.
 */
export function introspection(ctx: IdentityContext): Introspect {
  const counter = ctx.metrics.counter('identity_introspections_total', 'Introspections, by outcome');

  const access = async (token: string, client: ClientRow): Promise<IntrospectionResponse> => {
    const result = await ctx.accessTokens.verify(token);
    if (!result.ok) return INACTIVE;
    const c = result.claims;
    if (!client.trusted && c.client_id !== client.client_id) return INACTIVE;
    const body: ActiveIntrospection = {
      active: true,
      token_type: 'Bearer',
      iss: c.iss,
      aud: c.aud,
      sub: c.sub,
      client_id: c.client_id,
      scope: c.scope,
      exp: c.exp,
      iat: c.iat,
      jti: c.jti,
      tenant_id: c.tenant_id,
      roles: c.roles,
      is_governor: c.is_governor,
      trial_mode: c.trial_mode,
      agent_id: c.agent_id,
      email: c.email,
      ...(c.email ? { username: c.email } : {}),
    };
    return body;
  };

  const refresh = async (token: string, client: ClientRow): Promise<IntrospectionResponse> => {
    const row = await ctx.refreshTokens.find(token);
    if (!row || !RefreshTokens.isLive(row)) return INACTIVE;
    if (!client.trusted && row.client_id !== client.client_id) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      iss: ctx.config.ISSUER,
      sub: row.user_id,
      client_id: row.client_id,
      scope: row.scope,
      tenant_id: row.tenant_id,
      iat: Math.floor(row.created_at.getTime() / 1000),
      exp: Math.floor(row.expires_at.getTime() / 1000),
    };
  };

  return async (authorization, fields) => {
    const params = nonEmpty(fields);
    const { client } = await ctx.clientAuth.authenticate(authorization, params, { confidentialOnly: true });
    // An empty token is no token of ours: inactive (a missing parameter is invalid_request).
    const token = fields.token === '' ? '' : required(params, 'token');
    const body = token === '' ? INACTIVE : looksLikeJwt(token) ? await access(token, client) : await refresh(token, client);
    counter.inc(body.active ? ACTIVE_LABELS : INACTIVE_LABELS);
    return body;
  };
}

/** POST /oauth/introspect on Express (requests the hot path leaves to it). */
export function introspectEndpoint(introspect: Introspect): RequestHandler {
  return async (req, res) => {
    noStore(res);
    const body = await introspect(req.get('authorization'), formBody(req));
    res.status(200).json(body);
  };
}
