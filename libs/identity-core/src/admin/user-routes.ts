import { Router } from 'express';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { assertRoleReach, assertTenantAccess, caller, type Caller } from './caller';
import type { UserPatch } from '../directory/users';
import { RolesSchema, UserCreateSchema, UserPatchSchema } from './schemas';
import { parseBody } from './validate';

/**
 * A change that makes the user's access tokens wrong (their claims, or the user may no longer act
 * at all): tokens issued before it stop being active at once instead of living until they expire.
 */
function changesAccess(patch: UserPatch): boolean {
  return patch.disabled === true || patch.password !== undefined || patch.is_governor !== undefined || patch.trial_mode !== undefined || patch.agent_id !== undefined;
}

function assertGovernorReach(who: Caller, isGovernor: boolean | undefined): void {
  if (isGovernor !== undefined && !who.platformOwner && who.rank !== 0) throw new HttpProblem(403, 'only an owner may change the governor flag');
}

/** /v1/tenants/:tenantId/users — users of one tenant and their roles. */
export function userRoutes(ctx: IdentityContext): Router {
  const router = Router();
  const base = '/tenants/:tenantId/users';

  router.get(base, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    await ctx.tenants.get(req.params.tenantId);
    res.json({ items: await ctx.users.list(req.params.tenantId) });
  });

  router.post(base, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const input = parseBody(UserCreateSchema, req.body);
    assertRoleReach(who, input.roles ?? []);
    assertGovernorReach(who, input.is_governor);
    if (input.trial_mode && !input.agent_id) throw new HttpProblem(400, 'trial mode needs an agent_id');
    const user = await ctx.users.create(req.params.tenantId, input);
    res.status(201).location(`/v1/tenants/${user.tenant_id}/users/${user.id}`).json(user);
  });

  router.get(`${base}/:userId`, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    res.json(await ctx.users.get(req.params.tenantId, req.params.userId));
  });

  router.patch(`${base}/:userId`, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const patch = parseBody(UserPatchSchema, req.body);
    const target = await ctx.users.get(req.params.tenantId, req.params.userId);
    assertRoleReach(who, target.roles);
    assertGovernorReach(who, patch.is_governor);
    const user = await ctx.users.update(req.params.tenantId, req.params.userId, patch);
    if (changesAccess(patch)) await ctx.revocations.revokeSubject(user.id);
    // A new password ends every session, not just the tokens minted before it.
    if (patch.password !== undefined) await ctx.refreshTokens.revokeUser(user.id);
    res.json(user);
  });

  router.put(`${base}/:userId/roles`, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const { roles } = parseBody(RolesSchema, req.body);
    const target = await ctx.users.get(req.params.tenantId, req.params.userId);
    assertRoleReach(who, target.roles);
    assertRoleReach(who, roles);
    const user = await ctx.users.setRoles(req.params.tenantId, req.params.userId, roles);
    // Tokens carry the roles they were issued with: the old ones go, a refresh gets the new roles.
    await ctx.revocations.revokeSubject(user.id);
    res.json(user);
  });

  router.delete(`${base}/:userId`, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const target = await ctx.users.get(req.params.tenantId, req.params.userId);
    assertRoleReach(who, target.roles);
    await ctx.users.delete(req.params.tenantId, req.params.userId);
    await ctx.revocations.revokeSubject(target.id);
    res.status(204).end();
  });

  return router;
}
