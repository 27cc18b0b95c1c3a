import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import { AuditEventSchema } from '@cloud-stack/contracts';
import { useTestDatabase } from '@cloud-stack/test-kit';
import { startHarness, type Harness } from './harness';

const database = useTestDatabase('gw_admin_router');
let h: Harness;

beforeAll(async () => {
  h = await startHarness(database.url);
});
afterAll(async () => {
  await h.close();
});

const BASE = '/__gateway/admin';
const as = (who: string) => ({ authorization: `Bearer ${who}` });
const agents = { id: 'agents.execute', path: '/api/agents/{id}/execute', methods: ['POST'], upstream: 'http://agents.test', permission: 'agent:execute' };
const health = { id: 'health', path: '/health', upstream: 'http://agents.test', stages: [] };

async function draft(routes: unknown[] = [agents]): Promise<number> {
  const res = await request(h.app).post(`${BASE}/versions`).set(as('admin')).send({ routes, note: 'test' }).expect(201);
  return res.body.version as number;
}

/** The audit event of the request answered with `correlationId` (emitted once the response finished). */
async function auditOf(correlationId: string) {
  return vi.waitFor(() => {
    const found = h.audit.filter((e) => e.correlation_id === correlationId);
    expect(found).toHaveLength(1);
    return AuditEventSchema.parse(found[0]);
  });
}

describe('admin API: access', () => {
  it('answers 401 problem+json without credentials', async () => {
    const res = await request(h.app).get(`${BASE}/versions`).expect(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ status: 401, instance: `${BASE}/versions` });
  });

  it('passes on 503 when identity cannot be reached', async () => {
    await request(h.app).get(`${BASE}/routes`).set(as('identity-down')).expect(503);
  });

  it('lets route:read read and refuses it changes with 403', async () => {
    await request(h.app).get(`${BASE}/versions`).set(as('reader')).expect(200);
    const res = await request(h.app).post(`${BASE}/rollback`).set(as('reader')).expect(403);
    expect(res.body.detail).toBe('requires permission route:admin');
    await request(h.app).get(`${BASE}/versions`).set(as('nobody')).expect(403);
  });

  it('audits a refused change with the caller and the status', async () => {
    const res = await request(h.app).post(`${BASE}/versions/1/activate`).set(as('reader')).set('x-correlation-id', 'refused-1').expect(403);
    expect(res.body.correlation_id).toBe('refused-1');
    const event = await auditOf('refused-1');
    expect(event).toMatchObject({ category: 'admin', status: 403, user_id: 'user-reader', method: 'POST', details: { action: 'version.activate', version: 1 } });
  });

  it('does not audit reads', async () => {
    await request(h.app).get(`${BASE}/versions`).set(as('admin')).set('x-correlation-id', 'read-1').expect(200);
    expect(h.audit.some((e) => e.correlation_id === 'read-1')).toBe(false);
  });
});

describe('admin API: versions', () => {
  it('creates, edits, activates and rolls back, serving each switch at once', async () => {
    const v1 = await draft();
    await request(h.app).post(`${BASE}/versions/${v1}/activate`).set(as('admin')).expect(200, { version: v1, previous: null, changed: true });
    expect(h.table.version()).toBe(v1);

    const created = await request(h.app).post(`${BASE}/versions`).set(as('admin')).send({}).expect(201);
    const v2 = created.body.version as number;
    expect(created.body).toMatchObject({ status: 'draft', parent_version: v1, route_count: 1, created_by: 'user-admin' });
    await request(h.app).put(`${BASE}/versions/${v2}/routes/health`).set(as('admin')).send(health).expect(201);
    const replaced = await request(h.app).put(`${BASE}/versions/${v2}/routes/health`).set(as('admin')).send({ ...health, id: undefined, cost: 2 }).expect(200);
    expect(replaced.body).toMatchObject({ id: 'health', cost: 2, timeout_ms: 30_000 });

    const diff = await request(h.app).get(`${BASE}/versions/${v1}/diff/${v2}`).set(as('reader')).expect(200);
    expect(diff.body).toMatchObject({ from: v1, to: v2, removed: [], changed: [], added: [expect.objectContaining({ id: 'health' })] });

    await request(h.app).post(`${BASE}/versions/${v2}/activate`).set(as('admin')).expect(200, { version: v2, previous: v1, changed: true });
    const live = await request(h.app).get(`${BASE}/routes`).set(as('reader')).expect(200);
    expect(live.body.version).toBe(v2);
    expect(live.body.routes.map((r: { id: string }) => r.id)).toEqual(['agents.execute', 'health']);

    await request(h.app).post(`${BASE}/rollback`).set(as('admin')).set('x-correlation-id', 'rollback-1').expect(200, { version: v1, previous: v2, changed: true });
    expect(h.table.version()).toBe(v1);
    const event = await auditOf('rollback-1');
    expect(event).toMatchObject({ status: 200, path: `${BASE}/rollback`, details: { action: 'version.rollback', version: v1, previous: v2 } });
  });

  it('lists versions and shows one with its routes', async () => {
    const v = await draft([agents, health]);
    const list = await request(h.app).get(`${BASE}/versions?status=draft`).set(as('reader')).expect(200);
    expect(list.body.versions.find((x: { version: number }) => x.version === v)).toMatchObject({ status: 'draft', route_count: 2 });
    const one = await request(h.app).get(`${BASE}/versions/${v}`).set(as('reader')).expect(200);
    expect(one.body.routes.map((r: { id: string }) => r.id)).toEqual(['agents.execute', 'health']);
    await request(h.app).get(`${BASE}/versions?status=bogus`).set(as('reader')).expect(400);
  });

  it('deletes a route of a draft', async () => {
    const v = await draft([agents, health]);
    await request(h.app).delete(`${BASE}/versions/${v}/routes/health`).set(as('admin')).expect(204);
    await request(h.app).delete(`${BASE}/versions/${v}/routes/health`).set(as('admin')).expect(404);
  });

  it('answers 404 for a version that does not exist or is not a number', async () => {
    await request(h.app).get(`${BASE}/versions/424242`).set(as('reader')).expect(404);
    await request(h.app).get(`${BASE}/versions/abc`).set(as('reader')).expect(404);
  });

  it('refuses to edit a version that has been live, with 409', async () => {
    const v = await draft();
    await request(h.app).post(`${BASE}/versions/${v}/activate`).set(as('admin')).expect(200);
    const res = await request(h.app).put(`${BASE}/versions/${v}/routes/health`).set(as('admin')).send(health).expect(409);
    expect(res.body.code).toBe('version_not_editable');
  });
});

describe('admin API: validation', () => {
  it('answers 422 with the path and message of each bad field', async () => {
    const v = await draft();
    const res = await request(h.app)
      .put(`${BASE}/versions/${v}/routes/bad`)
      .set(as('admin'))
      .send({ path: '/a/{x', upstream: 'ftp://x', timeout_ms: 0, permision: 'typo' })
      .expect(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['', 'path', 'timeout_ms', 'upstream']);
    expect(res.body.errors.find((e: { path: string }) => e.path === '').message).toMatch(/permision/);
  });

  it('names the route of a bad field in a new version', async () => {
    const res = await request(h.app).post(`${BASE}/versions`).set(as('admin')).send({ routes: [agents, { ...health, hosts: ['*'] }] }).expect(422);
    expect(res.body.errors).toEqual([{ path: 'routes[1].hosts[0]', message: expect.any(String) }]);
  });

  it('refuses an id in the body that differs from the URL', async () => {
    const v = await draft();
    const res = await request(h.app).put(`${BASE}/versions/${v}/routes/health`).set(as('admin')).send({ ...health, id: 'other' }).expect(422);
    expect(res.body.errors).toEqual([{ path: 'id', message: 'must be health (as in the URL) or left out' }]);
  });

  it('answers 400 to malformed JSON, 415 to other media types and 413 to a huge body', async () => {
    await request(h.app).post(`${BASE}/versions`).set(as('admin')).set('content-type', 'application/json').send('{"routes": [').expect(400);
    await request(h.app).post(`${BASE}/versions`).set(as('admin')).set('content-type', 'text/plain').send('hello').expect(415);
    const huge = { routes: [], note: 'x'.repeat(2 * 1024 * 1024) };
    await request(h.app).post(`${BASE}/versions`).set(as('admin')).send(huge).expect(413);
  });
});

describe('admin API: apply', () => {
  const yaml = [
    'products:',
    '  - name: forge',
    '    upstream: http://forge.test',
    '    hosts: [platformforge.example]',
    '    defaults: { permission: "forge:use" }',
    '    routes:',
    '      - { id: forge.projects, path: /projects, methods: [GET] }',
  ].join('\n');

  it('turns a YAML route file into a draft, leaving the live version alone', async () => {
    const live = h.table.version();
    const res = await request(h.app).post(`${BASE}/apply`).set(as('admin')).set('content-type', 'application/yaml').send(yaml).expect(201);
    expect(res.body).toMatchObject({ status: 'draft', source: 'file', routes: [expect.objectContaining({ id: 'forge.projects', permission: 'forge:use' })] });
    expect(h.table.version()).toBe(live);
  });

  it('activates the applied file with ?activate=true', async () => {
    const doc = { products: [{ name: 'forge', upstream: 'http://forge.test', routes: [{ id: 'forge.all', path: '/forge/*' }] }] };
    const res = await request(h.app).post(`${BASE}/apply?activate=true`).set(as('admin')).set('x-correlation-id', 'apply-1').send(doc).expect(201);
    expect(res.body).toMatchObject({ status: 'active', activation: { changed: true } });
    expect(h.table.match('GET', 'any.test', '/forge/x')).toMatchObject({ kind: 'route', route: { id: 'forge.all' } });
    expect((await auditOf('apply-1')).details).toMatchObject({ action: 'file.apply', version: res.body.version, activate: true });
  });

  it('answers 422 with places in the file, and accepts text/yaml', async () => {
    const res = await request(h.app)
      .post(`${BASE}/apply`)
      .set(as('admin'))
      .set('content-type', 'text/yaml')
      .send('products:\n  - name: x\n    upstream: http://x.test\n    routes:\n      - { id: a, path: nope }\n')
      .expect(422);
    expect(res.body.errors).toEqual([{ path: 'products[0].routes[0].path', message: expect.any(String) }]);
  });

  it('refuses other media types with 415', async () => {
    await request(h.app).post(`${BASE}/apply`).set(as('admin')).set('content-type', 'text/plain').send(yaml).expect(415);
  });
});

describe('admin API: discovery', () => {
  it('says when discovery is not configured', async () => {
    await request(h.app).get(`${BASE}/discovery/proposals`).set(as('reader')).expect(404);
  });
});

describe('admin API: the console endpoints', () => {
  it('tells the caller who they are and what they may do, also when they may do nothing', async () => {
    const admin = await request(h.app).get(`${BASE}/me`).set(as('admin')).expect(200);
    expect(admin.body).toEqual({ subject: expect.objectContaining({ sub: 'user-admin', tenant_id: 'tenant-platform' }), permissions: { read: true, admin: true } });
    expect(admin.headers['cache-control']).toBe('no-store');
    const reader = await request(h.app).get(`${BASE}/me`).set(as('reader')).expect(200);
    expect(reader.body.permissions).toEqual({ read: true, admin: false });
    const nobody = await request(h.app).get(`${BASE}/me`).set(as('nobody')).expect(200);
    expect(nobody.body.permissions).toEqual({ read: false, admin: false });
    await request(h.app).get(`${BASE}/me`).expect(401);
  });

  it('checks the traffic window before anything else is asked', async () => {
    for (const minutes of ['0', '61', 'ten', '1.5']) {
      const res = await request(h.app).get(`${BASE}/traffic?minutes=${minutes}`).set(as('reader')).expect(400);
      expect(res.body.errors).toEqual([{ path: 'minutes', message: '1..60' }]);
    }
    await request(h.app).get(`${BASE}/traffic`).set(as('nobody')).expect(403);
  });

  it('answers 404 for console features this gateway was not given', async () => {
    const res = await request(h.app).get(`${BASE}/traffic`).set(as('reader')).expect(404);
    expect(res.body.detail).toBe('traffic history is not configured on this gateway');
    await request(h.app).get(`${BASE}/policy`).set(as('reader')).expect(404);
    await request(h.app).get(`${BASE}/health/stream`).set(as('reader')).expect(404);
  });
});
