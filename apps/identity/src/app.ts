import type { RequestListener } from 'node:http';
import { MetricsRegistry, type Logger } from '@cloud-stack/service-kit';
import { identityHttp, openIdentity, type IdentityConfig, type IdentityContext } from '@cloud-stack/identity-core';

export interface IdentityApp {
  readonly app: RequestListener;
  readonly ctx: IdentityContext;
  close(): Promise<void>;
}

/**
 * Opens identity's resources and composes its HTTP surface (identity-core's `identityHttp`: the
 * hot path on node:http in front of Express); exported for supertest.
 */
export async function createIdentityApp(config: IdentityConfig, logger: Logger): Promise<IdentityApp> {
  const ctx = await openIdentity(config, { logger, metrics: new MetricsRegistry() });
  return { app: identityHttp(ctx, logger), ctx, close: () => ctx.close() };
}
