import { Router } from 'express';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { assertRoleReach, assertTenantAccess, caller, type Caller } from './caller';
import { RolesSchema, UserCreateSchema, UserPatchSchema } from './schemas';
import { parseBody } from './validate';

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
    res.json(await ctx.users.update(req.params.tenantId, req.params.userId, patch));
  });

  router.put(`${base}/:userId/roles`, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const { roles } = parseBody(RolesSchema, req.body);
    const target = await ctx.users.get(req.params.tenantId, req.params.userId);
    assertRoleReach(who, target.roles);
    assertRoleReach(who, roles);
    res.json(await ctx.users.setRoles(req.params.tenantId, req.params.userId, roles));
  });

  router.delete(`${base}/:userId`, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const target = await ctx.users.get(req.params.tenantId, req.params.userId);
    assertRoleReach(who, target.roles);
    await ctx.users.delete(req.params.tenantId, req.params.userId);
    res.status(204).end();
  });

  return router;
}
