import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { postgresAnswers, redisAnswers, startEmbeddedPostgres, startRedisServer } from './index';

// The fall-backs used when a machine has no PostgreSQL or Redis of its own.
describe('throw-away services', () => {
  it('starts an embedded PostgreSQL that answers queries, and removes it', async () => {
    const server = await startEmbeddedPostgres();
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      await client.end();
      expect(rows[0]!.v).toMatch(/^\d+\.\d+/);
    } finally {
      await server.stop();
    }
    expect(await postgresAnswers(server.url)).toBe(false);
  }, 120_000);

  it('starts a redis-server on a free port when one is on PATH', async () => {
    const server = await startRedisServer();
    expect(server, 'redis-server must be on PATH on this machine').toBeDefined();
    expect(await redisAnswers(server!.url)).toBe(true);
    await server!.stop();
  });

  it('keeps an append-only redis-server\'s keys across a halt and a resume on the same port', async () => {
    const server = (await startRedisServer({ appendOnly: true }))!;
    try {
      const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      await redis.set('k', 'v');
      redis.disconnect();
      await server.halt();
      expect(await redisAnswers(server.url)).toBe(false);
      await server.resume();
      const again = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await again.connect();
      expect(await again.get('k')).toBe('v');
      again.disconnect();
    } finally {
      await server.stop();
    }
  });
});
