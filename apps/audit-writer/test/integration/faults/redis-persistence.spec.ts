import { afterAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import request from 'supertest';
import { pino } from 'pino';
import { startRedisServer, useTestDatabase, type StartedService } from '@cloud-stack/test-kit';
import { readAuditWriterConfig } from '../../../src/config';
import { createAuditWriterService } from '../../../src/app';

const testDb = useTestDatabase('audit_redis_aof');
const servers: StartedService[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** The service against a redis-server of its own, with the warnings it logged. */
async function startAgainst(appendOnly: boolean) {
  const redis = await startRedisServer({ appendOnly });
  expect(redis, 'redis-server must be on PATH').toBeDefined();
  servers.push(redis!);
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const config = readAuditWriterConfig({ DATABASE_URL: testDb.url, REDIS_URL: redis!.url, AUDIT_INTROSPECTION_CLIENT_SECRET: 'test-introspection-secret' });
  const service = await createAuditWriterService(config, logger);
  // /ready reads INFO on the worker's connection after the start-up check did, so its answer came first.
  const ready = await request(service.app).get('/ready');
  await service.close();
  const check = (ready.body.checks as Array<{ name: string; ok: boolean; warning?: string }>).find((c) => c.name === 'redis-persistence');
  return { status: ready.status, check, lines };
}

describe('Redis persistence, where queued audit events live', () => {
  it('is reported at start-up and in /ready when Redis keeps no append-only file, without failing readiness', async () => {
    const { status, check, lines } = await startAgainst(false);
    expect(status).toBe(200);
    expect(check).toMatchObject({ ok: true, warning: expect.stringMatching(/appendonly no.*lost if it restarts/) });
    expect(lines.some((l) => /"redis_persistence":"none".*appendonly no/.test(l))).toBe(true);
  });

  it('stays quiet when Redis keeps an append-only file', async () => {
    const { status, check, lines } = await startAgainst(true);
    expect(status).toBe(200);
    expect(check).toEqual({ name: 'redis-persistence', ok: true });
    expect(lines.filter((l) => l.includes('persist'))).toEqual([]);
  });
});
