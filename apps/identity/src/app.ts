import type { Express } from 'express';
import { createApp, MetricsRegistry, type Logger } from '@cloud-stack/service-kit';
import { adminRouter, discoveryRouter, oauthRouter, openIdentity, type IdentityConfig, type IdentityContext } from '@cloud-stack/identity-core';

export interface IdentityApp {
  readonly app: Express;
  readonly ctx: IdentityContext;
  close(): Promise<void>;
}

/** Opens identity's resources and composes its HTTP app; exported for supertest. */
export async function createIdentityApp(config: IdentityConfig, logger: Logger): Promise<IdentityApp> {
  const metrics = new MetricsRegistry();
  const ctx = await openIdentity(config, { logger, metrics });
  const app = createApp({
    name: 'identity',
    logger,
    metrics,
    checks: ctx.checks,
    bodyLimit: config.BODY_LIMIT,
    mount: (app) => {
      app.use(discoveryRouter(ctx));
      app.use('/oauth', oauthRouter(ctx));
      app.use('/v1', adminRouter(ctx));
    },
  });
  return { app, ctx, close: () => ctx.close() };
}
