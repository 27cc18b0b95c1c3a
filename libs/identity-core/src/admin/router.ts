import { Router } from 'express';
import type { IdentityContext } from '../context';
import { requireAdmin } from './caller';
import { recordAdminActions } from './audit-trail';
import { tenantRoutes } from './tenant-routes';
import { userRoutes } from './user-routes';
import { clientRoutes } from './client-routes';
import { keyRoutes } from './key-routes';
import { identityErrors } from './validate';

/** The admin API, mounted at /v1: bearer tokens with the admin role, scoped to the caller's tenant. */
export function adminRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.use(requireAdmin(ctx));
  router.use(recordAdminActions(ctx.emitAudit));
  router.use(tenantRoutes(ctx));
  router.use(userRoutes(ctx));
  router.use(clientRoutes(ctx));
  router.use(keyRoutes(ctx));
  router.use(identityErrors);
  return router;
}
