import type { RequestListener } from 'node:http';
import { bullConnection, MetricsRegistry, type Logger } from '@cloud-stack/service-kit';
import { identityHttp, identityQueuePrefix, openIdentity, scheduleTokenPurge, type IdentityConfig, type IdentityContext } from '@cloud-stack/identity-core';

export interface IdentityApp {
  readonly app: RequestListener;
  readonly ctx: IdentityContext;
  close(): Promise<void>;
}

/**
 * Opens identity's resources and composes its HTTP surface (identity-core's `identityHttp`: the
 * hot path on node:http in front of Express); exported for supertest. The service also runs its
 * share of the `identity-token-purge` job scheduler (one job per period across all replicas).
 */
export async function createIdentityApp(config: IdentityConfig, logger: Logger): Promise<IdentityApp> {
  const ctx = await openIdentity(config, { logger, metrics: new MetricsRegistry() });
  const redis = config.TOKEN_PURGE_EVERY_SECONDS > 0 ? bullConnection(config.REDIS_URL) : undefined;
  const purge = redis
    ? await scheduleTokenPurge({
        connection: redis.connection,
        prefix: identityQueuePrefix(config.REDIS_URL, config.REDIS_PREFIX),
        everyMs: config.TOKEN_PURGE_EVERY_SECONDS * 1000,
        purge: () => ctx.purgeExpired(),
        logger,
      }).catch(async (err: unknown) => {
        await ctx.close();
        await redis.close();
        throw err;
      })
    : undefined;
  return {
    app: identityHttp(ctx, logger),
    ctx,
    close: async () => {
      await purge?.close();
      await redis?.close();
      await ctx.close();
    },
  };
}
