import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, freePort, testRedisUrl } from '@cloud-stack/test-kit';
import { ensurePortsFree, resolveInfra, StartError } from './infra';

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const address = busy.address();
  busyPort = typeof address === 'object' && address ? address.port : 0;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

describe('ports', () => {
  it('names the first port something already listens on', async () => {
    const free = await freePort();
    const err = await ensurePortsFree([
      { name: 'identity', port: free },
      { name: 'gateway', port: busyPort },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toMatch(new RegExp(`^port ${busyPort} \\(gateway\\) is already in use`));
  });

  it('passes when every port is free', async () => {
    await expect(ensurePortsFree([{ name: 'identity', port: await freePort() }])).resolves.toBeUndefined();
  });
});

describe('PostgreSQL and Redis', () => {
  it('uses the servers named by DATABASE_URL and REDIS_URL, starting nothing', async () => {
    const infra = await resolveInfra({ DATABASE_URL: adminDatabaseUrl(), REDIS_URL: testRedisUrl() }, () => undefined);
    expect(infra.throwawayPostgres).toBe(false);
    expect(infra.databaseUrl('gateway')).toMatch(/\/gateway$/);
    expect(infra.redisUrl).toBe(testRedisUrl());
    await infra.stop();
  });

  it('stops with one line when the PostgreSQL named by DATABASE_URL does not answer', async () => {
    const port = await freePort();
    const err = await resolveInfra({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`, REDIS_URL: testRedisUrl() }, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toBe(`PostgreSQL does not answer at 127.0.0.1:${port} (DATABASE_URL); start it, or unset DATABASE_URL to use an embedded one`);
  });

  it('stops with one line when the Redis named by REDIS_URL does not answer', async () => {
    const port = await freePort();
    const err = await resolveInfra({ DATABASE_URL: adminDatabaseUrl(), REDIS_URL: `redis://127.0.0.1:${port}` }, () => undefined).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`Redis does not answer at 127.0.0.1:${port} (REDIS_URL); start it, or unset REDIS_URL to use a local one`);
  });
});
