import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildAuditEvent, type AuditEventInput } from '@cloud-stack/contracts';
import { createDb, sql, type Kysely } from '@cloud-stack/db';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { createLogger } from '@cloud-stack/service-kit';
import { adminDatabaseUrl, holdLock, terminateBackends, useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { readAuditWriterConfig } from '../../../src/config';
import { createAuditWriterService, type AuditWriterService } from '../../../src/app';

const testDb = useTestDatabase('audit_cut');
const redis = useRedisPrefix('audit-cut');
let service: AuditWriterService;
let db: Kysely<unknown>;

beforeAll(async () => {
  const config = readAuditWriterConfig({
    DATABASE_URL: testDb.url,
    REDIS_URL: redis.url,
    AUDIT_QUEUE_PREFIX: redis.prefix,
    AUDIT_INTROSPECTION_CLIENT_SECRET: 'test-introspection-secret',
    AUDIT_FLUSH_MS: '5',
    // Seal one-minute intervals as soon as they close, checking every second.
    AUDIT_SEAL_INTERVAL_SECONDS: '60',
    AUDIT_SEAL_GRACE_SECONDS: '0',
    AUDIT_SEAL_EVERY_MS: '1000',
  });
  service = await createAuditWriterService(config, createLogger('audit-writer-test', 'silent'));
  db = createDb<unknown>(testDb.url, { max: 1 });
});
afterAll(async () => {
  await service?.close();
  await db?.destroy();
});

function auditEvent(i: number, occurredAt = new Date()): AuditEventInput {
  return buildAuditEvent({ occurred_at: occurredAt, correlation_id: `cut-${i}`, tenant_id: 'tenant-a', user_id: 'u', client_id: 'c', route_id: 'r', method: 'GET', host: 'h', path: `/p/${i}`, status: 200, duration_ms: 1 });
}

const count = async (table: string) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db)).rows[0]!.n;
const database = () => new URL(testDb.url).pathname.slice(1);

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 50));
}

async function emit(events: AuditEventInput[]): Promise<void> {
  const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, maxBatch: 50, lingerMs: 1 });
  for (const e of events) producer.emit(e);
  await producer.close();
}

describe('a database connection cut under the audit-writer', () => {
  it('inside a seal transaction: the service stays up and the next run seals the interval', async () => {
    // The seal's INSERT of leaf hashes waits for this lock, inside its transaction (after the advisory lock and two reads).
    const lock = await holdLock(testDb.url, 'LOCK TABLE audit_row_hashes IN ACCESS EXCLUSIVE MODE');
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    await emit(Array.from({ length: 20 }, (_, i) => auditEvent(i, tenMinutesAgo)));
    await until(async () => (await count('audit_events')) === 20);

    const cut = await terminateBackends(adminDatabaseUrl(), { database: database(), applicationName: 'audit-writer', waitingForLock: true, waitMs: 10_000 });
    await lock.release();
    expect(cut).toBeGreaterThan(0);

    await until(async () => (await count('audit_digests')) > 0);
    expect(await count('audit_digests')).toBeGreaterThan(0);
    expect(await count('audit_row_hashes')).toBe(20);
    await request(service.app).get('/ready').expect(200);
  });

  it('under the writer’s insert: the service stays up, retries the batch and stores every event once', async () => {
    await request(service.app).get('/ready').expect(200);
    // Inserts wait for this lock, so the cut finds the writer's statement in flight.
    const lock = await holdLock(testDb.url, 'LOCK TABLE audit_event_ids IN SHARE ROW EXCLUSIVE MODE');
    await emit(Array.from({ length: 200 }, (_, i) => auditEvent(i)));

    const cut = await terminateBackends(adminDatabaseUrl(), { database: database(), applicationName: 'audit-writer', waitingForLock: true, waitMs: 10_000 });
    await lock.release();
    expect(cut).toBeGreaterThan(0);

    await until(async () => (await count('audit_events')) === 220);
    expect(await count('audit_events')).toBe(220);
    expect(await count('audit_dead_letters')).toBe(0);
    const metrics = await request(service.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/audit_writer_write_failures_total\{kind="transient"\} [1-9]/);
    await request(service.app).get('/ready').expect(200);
  });
});
