import { Router } from 'express';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { tenantView } from '../directory/tenants';
import { assertPlatformOwner, assertTenantAccess, caller } from './caller';
import { TenantCreateSchema, TenantPatchSchema } from './schemas';
import { parseBody } from './validate';

/** /v1/tenants: a platform owner sees and manages all; a tenant admin only their own. */
export function tenantRoutes(ctx: IdentityContext): Router {
  const router = Router();

  router.get('/tenants', async (_req, res) => {
    const who = caller(res);
    const rows = who.platformOwner ? await ctx.tenants.list() : [await ctx.tenants.get(who.tenant_id)];
    res.json({ items: rows.map(tenantView) });
  });

  router.post('/tenants', async (req, res) => {
    assertPlatformOwner(caller(res));
    const input = parseBody(TenantCreateSchema, req.body);
    const row = await ctx.tenants.create(input);
    res.status(201).location(`/v1/tenants/${row.id}`).json(tenantView(row));
  });

  router.get('/tenants/:tenantId', async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    res.json(tenantView(await ctx.tenants.get(req.params.tenantId)));
  });

  router.patch('/tenants/:tenantId', async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const patch = parseBody(TenantPatchSchema, req.body);
    if (patch.allowed_email_domains !== undefined && !who.platformOwner && who.rank !== 0) {
      throw new HttpProblem(403, 'only an owner may change the allowed e-mail domains');
    }
    res.json(tenantView(await ctx.tenants.update(req.params.tenantId, patch)));
  });

  router.delete('/tenants/:tenantId', async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    assertPlatformOwner(who);
    await ctx.tenants.delete(req.params.tenantId);
    res.status(204).end();
  });

  return router;
}
