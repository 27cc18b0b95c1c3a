import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { uuidv7 } from '@cloud-stack/contracts';
import { createDb, sql, type Kysely } from '@cloud-stack/db';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { createLogger } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { readAuditWriterConfig } from '../../../src/config';
import { createAuditWriterService, type AuditWriterService } from '../../../src/app';

declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

const testDb = useTestDatabase('audit_service');
const redis = useRedisPrefix('audit-service');
let service: AuditWriterService;
let db: Kysely<unknown>;

beforeAll(async () => {
  const config = readAuditWriterConfig({ DATABASE_URL: testDb.url, REDIS_URL: redis.url, AUDIT_QUEUE_PREFIX: redis.prefix, AUDIT_INTROSPECTION_CLIENT_SECRET: 'test-introspection-secret', AUDIT_FLUSH_MS: '5' });
  service = await createAuditWriterService(config, createLogger('audit-writer-test', 'silent'));
  db = createDb<unknown>(testDb.url, { max: 1 });
});
afterAll(async () => {
  await service?.close();
  await db?.destroy();
});

describe('the audit-writer service', () => {
  it('migrates on start, is ready, and stores what the shared producer emits', async () => {
    await request(service.app).get('/ready').expect(200);
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix });
    const eventId = uuidv7();
    producer.emit({
      event_id: eventId,
      occurred_at: new Date().toISOString(),
      correlation_id: 'svc-1',
      causation_id: null,
      trace_id: null,
      tenant_id: 'tenant-a',
      user_id: 'u',
      client_id: 'c',
      agent_id: null,
      route_id: 'r',
      method: 'GET',
      host: 'h',
      path: '/p',
      status: 200,
      duration_ms: 1,
      decision: { allow: true, reasons: [], policy: 'gateway/authz', decision_id: null },
      sandbox_routed: false,
      trial_mode: false,
      upstream: null,
      ip: null,
      user_agent: null,
      error_code: null,
    });
    await producer.close();
    for (let i = 0; i < 200; i++) {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE event_id = ${eventId}::uuid`.execute(db);
      if (rows[0]!.n === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const metrics = await request(service.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/audit_writer_events_written_total 1/);
    // the read API is mounted (and wants a bearer token)
    await request(service.app).get('/v1/audit/events').expect(401);
  });
});
