import type { RequestHandler, Response } from 'express';
import type { Role } from '@cloud-stack/contracts';
import { bearerToken } from '@cloud-stack/identity-client';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { topRank } from '../directory/users';

/** Who is calling the admin API, from their bearer token. */
export interface Caller {
  readonly sub: string;
  readonly client_id: string;
  readonly tenant_id: string;
  readonly roles: readonly Role[];
  /** Owner of the platform tenant: manages every tenant. */
  readonly platformOwner: boolean;
  /** Rank of the caller's most powerful role (0 = owner). */
  readonly rank: number;
}

export function caller(res: Response): Caller {
  return res.locals.caller as Caller;
}

const challenge = (error: string) => ({ 'WWW-Authenticate': `Bearer realm="cloud-stack", error="${error}"` });

/** Requires a valid access token carrying the admin role (owners have it by implication). */
export function requireAdmin(ctx: IdentityContext): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) throw new HttpProblem(401, 'a bearer access token is required', { headers: challenge('invalid_request') });
    const result = await ctx.accessTokens.verify(token);
    if (!result.ok) throw new HttpProblem(401, 'the access token is invalid or expired', { headers: challenge('invalid_token') });
    const { claims } = result;
    if (!claims.roles.includes('admin')) throw new HttpProblem(403, 'the admin role is required', { headers: challenge('insufficient_scope') });
    const platformOwner = claims.roles.includes('owner') && (await ctx.tenants.isPlatform(claims.tenant_id));
    res.locals.caller = { sub: claims.sub, client_id: claims.client_id, tenant_id: claims.tenant_id, roles: claims.roles, platformOwner, rank: topRank(claims.roles) } satisfies Caller;
    next();
  };
}

/** A tenant the caller may not see does not exist, as far as they can tell. */
export function assertTenantAccess(who: Caller, tenantId: string): void {
  if (!who.platformOwner && who.tenant_id !== tenantId) throw new HttpProblem(404, `tenant ${tenantId} not found`);
}

export function assertPlatformOwner(who: Caller): void {
  if (!who.platformOwner) throw new HttpProblem(403, 'only a platform owner may do this');
}

/** The caller may grant, take away or touch only roles no stronger than their own. */
export function assertRoleReach(who: Caller, roles: readonly string[]): void {
  if (who.platformOwner) return;
  if (topRank(roles) < who.rank) throw new HttpProblem(403, 'cannot grant or manage a role above your own');
}
