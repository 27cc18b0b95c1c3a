import { startEmbeddedPostgres, startRedisServer, type ControlledService } from '@cloud-stack/test-kit';

/** The PostgreSQL and Redis the suite owns: stopped, started and paused without touching the machine's. */
export interface Infra {
  readonly postgres: ControlledService;
  /** Runs with AOF on, so a restart keeps the queued audit events (docs/operations.md). */
  readonly redis: ControlledService;
  databaseUrl(name: string): string;
  stop(): Promise<void>;
}

export async function startInfra(): Promise<Infra> {
  const postgres = await startEmbeddedPostgres();
  const redis = await startRedisServer({ appendOnly: true });
  if (!redis) {
    await postgres.stop();
    throw new Error('the chaos suite needs redis-server on PATH (apt-get install redis-server)');
  }
  return {
    postgres,
    redis,
    databaseUrl(name) {
      const url = new URL(postgres.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      await redis.stop();
      await postgres.stop();
    },
  };
}
