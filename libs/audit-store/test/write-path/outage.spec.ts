import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Kysely } from '@cloud-stack/db';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { createAuditWriter, type AuditWriter } from '../../src/index';
import { countRows, event, eventually, openWriteDb, quietLogger } from './helpers';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

const testDb = useTestDatabase('audit_outage');
const redis = useRedisPrefix('audit-outage');
let db: Kysely<unknown>;
let writerDb: Kysely<unknown>;
let proxy: TcpProxy;
let writer: AuditWriter;

beforeAll(async () => {
  db = await openWriteDb(testDb.url);
  const target = new URL(testDb.url);
  proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(testDb.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  writerDb = createDb<unknown>(viaProxy.toString(), { max: 3 });
  writer = createAuditWriter({ db: writerDb, connection: { url: redis.url }, prefix: redis.prefix, batchSize: 100, flushMs: 5, retryBaseMs: 50, retryMaxMs: 300, logger: quietLogger() });
});
afterAll(async () => {
  await writer?.close().catch(() => undefined);
  await writerDb?.destroy().catch(() => undefined);
  await proxy?.close();
  await db?.destroy();
});

const ready = async () => {
  for (const c of writer.readiness) await c.check();
};

describe('PostgreSQL unavailable for a while', () => {
  it('loses nothing: writes resume once it is back, and /ready names the problem meanwhile', async () => {
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, maxBatch: 50, lingerMs: 1 });
    for (let i = 0; i < 1000; i++) producer.emit(event());
    await producer.flush();
    await eventually(async () => (await countRows(db)) === 1000);
    await ready();

    await proxy.cut();
    for (let i = 0; i < 2000; i++) producer.emit(event());
    await producer.flush();
    await eventually(async () => ready().then(() => false, () => true), 20_000);
    await expect(ready()).rejects.toThrow(/database writes failing since .*(ECONNREFUSED|terminated|Connection)/i);
    // nothing written through the cut link, and the jobs stay with the writer (active) or queued
    await new Promise((r) => setTimeout(r, 500));
    expect(await countRows(db)).toBe(1000);
    expect(writer.stats().retries).toBeGreaterThan(0);

    await proxy.restore();
    await eventually(async () => (await countRows(db)) === 3000, 30_000);
    await ready();
    await new Promise((r) => setTimeout(r, 500));
    expect(await countRows(db)).toBe(3000);
    expect(await countRows(db, 'audit_dead_letters')).toBe(0);
    await producer.close();
  });
});
