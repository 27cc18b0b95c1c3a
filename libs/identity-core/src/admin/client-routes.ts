import { Router } from 'express';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { clientView } from '../directory/clients';
import { assertRoleReach, assertTenantAccess, caller } from './caller';
import { ClientCreateSchema } from './schemas';
import { parseBody } from './validate';

/** /v1/tenants/:tenantId/clients — OAuth clients; a secret is shown once, at creation or rotation. */
export function clientRoutes(ctx: IdentityContext): Router {
  const router = Router();
  const base = '/tenants/:tenantId/clients';

  router.get(base, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    res.json({ items: (await ctx.clients.list(req.params.tenantId)).map(clientView) });
  });

  router.post(base, async (req, res) => {
    const who = caller(res);
    assertTenantAccess(who, req.params.tenantId);
    const input = parseBody(ClientCreateSchema, req.body);
    if (input.trusted && !who.platformOwner) throw new HttpProblem(403, 'only a platform owner may create a trusted client');
    assertRoleReach(who, input.roles ?? []);
    const { client, client_secret } = await ctx.clients.create(req.params.tenantId, input);
    res
      .status(201)
      .location(`/v1/tenants/${client.tenant_id}/clients/${client.client_id}`)
      .setHeader('Cache-Control', 'no-store')
      .json({ ...clientView(client), ...(client_secret ? { client_secret } : {}) });
  });

  router.get(`${base}/:clientId`, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    res.json(clientView(await ctx.clients.get(req.params.tenantId, req.params.clientId)));
  });

  router.post(`${base}/:clientId/secret`, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    const secret = await ctx.clients.rotateSecret(req.params.tenantId, req.params.clientId);
    // A secret is rotated because it may have leaked: what was minted with it goes too.
    await ctx.revocations.revokeSubject(req.params.clientId);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ client_id: req.params.clientId, client_secret: secret });
  });

  router.delete(`${base}/:clientId`, async (req, res) => {
    assertTenantAccess(caller(res), req.params.tenantId);
    await ctx.clients.delete(req.params.tenantId, req.params.clientId);
    await ctx.revocations.revokeSubject(req.params.clientId);
    res.status(204).end();
  });

  return router;
}
