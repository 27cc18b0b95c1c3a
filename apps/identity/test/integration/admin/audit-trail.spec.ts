import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Queue } from 'bullmq';
import { AUDIT_QUEUE, auditBatchEvents, AuditBatchSchema, AuditEventSchema, type AuditEvent } from '@cloud-stack/contracts';
import { testRedisUrl } from '@cloud-stack/test-kit';
import { useIdentity } from '../../support/harness';

const h = useIdentity();

describe('admin actions on the audit trail', () => {
  let queue: Queue;
  const seen: AuditEvent[] = [];
  const as = (token: string) => ({
    get: (path: string) => request(h.app).get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => request(h.app).post(path).auth(token, { type: 'bearer' }).send(body),
    put: (path: string, body: object) => request(h.app).put(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object) => request(h.app).patch(path).auth(token, { type: 'bearer' }).send(body),
  });

  /** Every event enqueued so far, each checked against the contract the audit-writer enforces. */
  async function events(): Promise<AuditEvent[]> {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed']);
    seen.length = 0;
    for (const job of jobs) for (const e of auditBatchEvents(AuditBatchSchema.parse(job.data))) seen.push(AuditEventSchema.parse(e));
    return seen;
  }

  async function eventsUntil(count: number): Promise<AuditEvent[]> {
    for (let i = 0; i < 200; i++) {
      const got = await events();
      if (got.length >= count) return got;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${count} audit events, got ${seen.length}`);
  }

  beforeAll(() => {
    queue = new Queue(AUDIT_QUEUE, { connection: { url: testRedisUrl() }, prefix: `${h.prefix}bull` });
  });
  afterAll(async () => {
    await queue.close();
  });

  it('records each change with who, what, where and the outcome, never the request body', async () => {
    const { access_token: admin } = await h.login('admin@acme.example');
    const { access_token: owner } = await h.login('owner@cloudstack.example');
    const correlation = 'audit-trail-create-1';

    const created = await as(admin).post('/v1/tenants/acme/users', { email: 'newbie@acme.example', password: 'correct-horse-battery', roles: ['viewer'] }).set('X-Correlation-ID', correlation);
    expect(created.status).toBe(201);
    expect((await as(admin).get('/v1/tenants/acme/users')).status).toBe(200); // reads are not recorded
    expect((await as(admin).put(`/v1/tenants/acme/users/${created.body.id}/roles`, { roles: ['owner'] })).status).toBe(403);
    expect((await as(admin).patch('/v1/tenants/platform', { name: 'pwned' })).status).toBe(404);
    expect((await as(owner).patch('/v1/tenants/acme', { name: 'ACME Corporation' })).status).toBe(200);

    const got = await eventsUntil(4);
    expect(got).toHaveLength(4);
    const byPath = (method: string, path: string) => got.find((e) => e.method === method && e.path === path);
    const adminSub = (await request(h.app).post('/oauth/introspect').auth('gateway', h.secret('gateway')).type('form').send({ token: admin })).body.sub;

    expect(byPath('POST', '/v1/tenants/acme/users')).toMatchObject({
      category: 'admin',
      correlation_id: correlation,
      tenant_id: 'acme',
      user_id: adminSub,
      client_id: 'console',
      status: 201,
      details: { actor_tenant_id: 'acme', platform_owner: false, completed: true },
    });
    expect(byPath('PUT', `/v1/tenants/acme/users/${created.body.id}/roles`)).toMatchObject({ tenant_id: 'acme', status: 403 });
    // A probe of another tenant stays in the prober's own trail.
    expect(byPath('PATCH', '/v1/tenants/platform')).toMatchObject({ tenant_id: 'acme', user_id: adminSub, status: 404 });
    // What the platform does to a tenant is in that tenant's trail.
    expect(byPath('PATCH', '/v1/tenants/acme')).toMatchObject({ tenant_id: 'acme', status: 200, details: { actor_tenant_id: 'platform', platform_owner: true } });
    expect(JSON.stringify(got)).not.toContain('correct-horse-battery');
  });
});
