import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createLogger, MAX_JSON_DEPTH } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { readAuditWriterConfig } from '../../../src/config';
import { createAuditWriterService, type AuditWriterService } from '../../../src/app';

const testDb = useTestDatabase('audit_json_nesting');
const redis = useRedisPrefix('audit-json-nesting');
let service: AuditWriterService;

beforeAll(async () => {
  const config = readAuditWriterConfig({ DATABASE_URL: testDb.url, REDIS_URL: redis.url, AUDIT_QUEUE_PREFIX: redis.prefix, AUDIT_INTROSPECTION_CLIENT_SECRET: 'test-introspection-secret' });
  service = await createAuditWriterService(config, createLogger('audit-writer-test', 'silent'));
});
afterAll(async () => {
  await service?.close();
});

describe('the audit-writer’s JSON bodies', () => {
  it('answers a body nested past the limit with a 400 problem naming it, before any route runs', async () => {
    const depth = 20_000;
    const res = await request(service.app).post('/v1/audit/events').set('content-type', 'application/json').send(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, detail: `request body nests JSON deeper than ${MAX_JSON_DEPTH} levels` });
  });
});
