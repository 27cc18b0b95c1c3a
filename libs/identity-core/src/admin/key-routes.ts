import { Router } from 'express';
import type { IdentityContext } from '../context';
import { assertPlatformOwner, caller } from './caller';

/** /v1/keys — signing keys (platform owners only). */
export function keyRoutes(ctx: IdentityContext): Router {
  const router = Router();
  router.get('/keys', (_req, res) => {
    assertPlatformOwner(caller(res));
    res.json({ items: ctx.keys.describe() });
  });
  router.post('/keys/rotate', async (_req, res) => {
    assertPlatformOwner(caller(res));
    const kid = await ctx.rotateKey();
    res.status(201).json({ kid, items: ctx.keys.describe() });
  });
  return router;
}
