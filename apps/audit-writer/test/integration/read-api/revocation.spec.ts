import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createLogger } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { readAuditWriterConfig } from '../../../src/config';
import { createAuditWriterService, type AuditWriterService } from '../../../src/app';
import { useIdentityProcess } from '@cloud-stack/test-kit';

const identity = useIdentityProcess();
const testDb = useTestDatabase('audit_revocation');
const queue = useRedisPrefix('audit-revocation');
let service: AuditWriterService;

beforeAll(async () => {
  const config = readAuditWriterConfig({
    DATABASE_URL: testDb.url,
    REDIS_URL: queue.url,
    AUDIT_QUEUE_PREFIX: queue.prefix,
    IDENTITY_URL: identity.url,
    AUDIT_INTROSPECTION_CLIENT_SECRET: identity.secret('audit-writer'),
    IDENTITY_REDIS_PREFIX: identity.prefix,
  });
  service = await createAuditWriterService(config, createLogger('audit-writer-test', 'silent'));
});
afterAll(async () => {
  await service?.close();
});

const events = (token: string) => request(service.app).get('/v1/audit/events?limit=1').set('authorization', `Bearer ${token}`);

/**
 * Issue 9: answers were cached up to 30 s without listening to identity, so a token revoked at
 * identity still read the audit log with 200 seconds later.
 */
describe('the audit API and revocations at identity', () => {
  it('is ready only with the revocation channel subscribed', async () => {
    const res = await request(service.app).get('/ready').expect(200);
    expect(res.body.checks).toContainEqual({ name: 'identity-revocations', ok: true });
  });

  it('answers 401 within a second to a token revoked at identity while its answer was cached', async () => {
    const { access_token: token } = await identity.login('admin@acme.example');
    await events(token).expect(200);
    const before = await identity.introspections();
    await events(token).expect(200);
    expect(await identity.introspections()).toBe(before); // served from the cache

    await identity.revoke(token);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 1_000) {
      status = (await events(token)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }

    expect(status).toBe(401);
    const res = await events(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses a refresh token presented as a bearer token', async () => {
    const { refresh_token: refresh } = await identity.login('admin@acme.example');
    const res = await events(refresh);
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/only an access token/);
  });
});
