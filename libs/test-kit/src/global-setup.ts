import type { TestProject } from 'vitest/node';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  postgresAnswers,
  redisAnswers,
  startEmbeddedPostgres,
  startRedisServer,
  type StartedService,
} from './services';

/**
 * Makes sure the tests have a PostgreSQL and a Redis: the ones at DATABASE_URL / REDIS_URL
 * (default: the local servers), else throw-away ones started here, else one line on what is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: StartedService[] = [];

  let databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (!(await postgresAnswers(databaseUrl))) {
    try {
      const pg = await startEmbeddedPostgres();
      started.push(pg);
      databaseUrl = pg.url;
    } catch (err) {
      throw new Error(
        `tests need PostgreSQL: none answers at ${databaseUrl} and the embedded one failed to start (${(err as Error).message}); ` +
          'start a server (e.g. apt-get install postgresql) or set DATABASE_URL',
      );
    }
  }

  let redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (!(await redisAnswers(redisUrl))) {
    const redis = await startRedisServer();
    if (!redis) {
      throw new Error(`tests need Redis: none answers at ${redisUrl} and redis-server is not on PATH; install it (apt-get install redis-server) or set REDIS_URL`);
    }
    started.push(redis);
    redisUrl = redis.url;
  }

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  return async () => {
    for (const s of started.reverse()) await s.stop();
  };
}
