import { beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { useIdentity } from '../../support/harness';

const h = useIdentity();

describe('admin API tenancy', () => {
  let platformOwner: string;
  let platformAdmin: string;
  let acmeAdmin: string;
  let viewer: string;
  const as = (token: string) => ({
    get: (path: string) => request(h.app).get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => request(h.app).post(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object) => request(h.app).patch(path).auth(token, { type: 'bearer' }).send(body),
    put: (path: string, body: object) => request(h.app).put(path).auth(token, { type: 'bearer' }).send(body),
    delete: (path: string) => request(h.app).delete(path).auth(token, { type: 'bearer' }),
  });

  /**
   * Everything the admin API can change, as the platform owner sees it: tenants, their users and
   * clients. A refused write must leave it exactly as it was, not only answer 403/404.
   */
  async function state(): Promise<unknown> {
    const tenants = (await as(platformOwner).get('/v1/tenants')).body.items as Array<{ id: string }>;
    const out: Record<string, unknown> = {};
    for (const t of tenants) {
      const users = await as(platformOwner).get(`/v1/tenants/${t.id}/users`);
      const clients = await as(platformOwner).get(`/v1/tenants/${t.id}/clients`);
      expect([users.status, clients.status]).toEqual([200, 200]);
      out[t.id] = { tenant: t, users: users.body.items, clients: clients.body.items };
    }
    return out;
  }

  beforeAll(async () => {
    platformOwner = (await h.login('owner@cloudstack.example')).access_token;
    platformAdmin = (await h.login('admin@cloudstack.example')).access_token;
    acmeAdmin = (await h.login('admin@acme.example')).access_token;
    viewer = (await h.login('viewer@cloudstack.example')).access_token;
  });

  it('requires a bearer token, with a challenge', async () => {
    const res = await request(h.app).get('/v1/tenants');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect((await request(h.app).get('/v1/tenants').auth('garbage', { type: 'bearer' })).status).toBe(401);
  });

  it('requires the admin role', async () => {
    const res = await as(viewer).get('/v1/tenants');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
  });

  it('shows a tenant admin only their own tenant', async () => {
    const res = await as(acmeAdmin).get('/v1/tenants');
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: { id: string }) => t.id)).toEqual(['acme']);
  });

  it('hides tenant B from an admin of tenant A, for reads and writes', async () => {
    const before = await state();
    expect((await as(acmeAdmin).get('/v1/tenants/platform')).status).toBe(404);
    expect((await as(acmeAdmin).get('/v1/tenants/platform/users')).status).toBe(404);
    expect((await as(acmeAdmin).get('/v1/tenants/platform/clients')).status).toBe(404);
    expect((await as(acmeAdmin).patch('/v1/tenants/platform', { name: 'pwned' })).status).toBe(404);
    expect((await as(acmeAdmin).post('/v1/tenants/platform/users', { email: 'mole@cloudstack.example', password: 'long-enough-1', roles: ['owner'] })).status).toBe(404);
    const platformUsers = await as(platformOwner).get('/v1/tenants/platform/users');
    const victim = platformUsers.body.items.find((u: { email: string }) => u.email === 'viewer@cloudstack.example');
    expect((await as(acmeAdmin).get(`/v1/tenants/platform/users/${victim.id}`)).status).toBe(404);
    expect((await as(acmeAdmin).put(`/v1/tenants/platform/users/${victim.id}/roles`, { roles: ['owner'] })).status).toBe(404);
    // Addressing a platform user through the caller's own tenant does not work either.
    expect((await as(acmeAdmin).get(`/v1/tenants/acme/users/${victim.id}`)).status).toBe(404);
    expect((await as(acmeAdmin).delete(`/v1/tenants/acme/users/${victim.id}`)).status).toBe(404);
    expect((await as(platformOwner).get('/v1/tenants/platform')).body.name).toBe('Cloud Stack Platform');
    // No cross-tenant create, PATCH, PUT or DELETE above left a trace.
    expect(await state()).toEqual(before);
  });

  it('keeps a platform admin (not owner) out of other tenants', async () => {
    const before = await state();
    expect((await as(platformAdmin).get('/v1/tenants/acme/users')).status).toBe(404);
    expect((await as(platformAdmin).post('/v1/tenants', { id: 'newco', name: 'NewCo' })).status).toBe(403);
    expect(await state()).toEqual(before);
  });

  it('lets a platform owner manage every tenant', async () => {
    const all = await as(platformOwner).get('/v1/tenants');
    expect(all.body.items.map((t: { id: string }) => t.id)).toEqual(['acme', 'platform']);
    const created = await as(platformOwner).post('/v1/tenants', { id: 'globex', name: 'Globex', allowed_email_domains: ['globex.example'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'globex', allowed_email_domains: ['globex.example'], is_platform: false });
    const user = await as(platformOwner).post('/v1/tenants/acme/users', { email: 'new@acme.example', password: 'long-enough-1', roles: ['viewer'] });
    expect(user.status).toBe(201);
    const patched = await as(platformOwner).patch('/v1/tenants/acme', { name: 'Acme Corporation' });
    expect(patched.body.name).toBe('Acme Corporation');
    expect((await as(platformOwner).delete('/v1/tenants/globex')).status).toBe(204);
    const before = await state();
    expect((await as(platformOwner).delete('/v1/tenants/platform')).status).toBe(403);
    expect(await state()).toEqual(before);
  });

  it('manages users, roles and clients within the own tenant', async () => {
    const created = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'Dev@Acme.example', password: 'long-enough-2', roles: ['developer'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'dev@acme.example', tenant_id: 'acme', roles: ['developer'] });
    expect(created.body.password_hash).toBeUndefined();
    const duplicate = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'dev@acme.example', password: 'long-enough-2' });
    expect(duplicate.status).toBe(409);
    const roles = await as(acmeAdmin).put(`/v1/tenants/acme/users/${created.body.id}/roles`, { roles: ['operator', 'customer'] });
    expect(roles.body.roles).toEqual(['operator', 'customer']);
    const login = await request(h.app).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: 'dev@acme.example', password: 'long-enough-2' });
    expect(login.status).toBe(200);

    const client = await as(acmeAdmin).post('/v1/tenants/acme/clients', { name: 'Acme worker', client_type: 'confidential', grant_types: ['client_credentials'], scopes: ['api'] });
    expect(client.status).toBe(201);
    expect(client.body.client_secret).toMatch(/^cs_/);
    const issued = await request(h.app).post('/oauth/token').auth(client.body.client_id, client.body.client_secret).type('form').send({ grant_type: 'client_credentials' });
    expect(issued.status).toBe(200);
    const rotated = await as(acmeAdmin).post(`/v1/tenants/acme/clients/${client.body.client_id}/secret`, {});
    expect(rotated.body.client_secret).not.toBe(client.body.client_secret);
    const stale = await request(h.app).post('/oauth/token').auth(client.body.client_id, client.body.client_secret).type('form').send({ grant_type: 'client_credentials' });
    expect(stale.status).toBe(401);
    expect((await as(acmeAdmin).delete(`/v1/tenants/acme/clients/${client.body.client_id}`)).status).toBe(204);
    expect((await as(acmeAdmin).delete(`/v1/tenants/acme/users/${created.body.id}`)).status).toBe(204);
  });

  it('lets only an owner change a tenant’s allowed e-mail domains', async () => {
    const before = await state();
    const res = await as(platformAdmin).patch('/v1/tenants/platform', { allowed_email_domains: [] });
    expect(res.status).toBe(403);
    expect(await state()).toEqual(before);
    expect((await as(platformAdmin).patch('/v1/tenants/platform', { name: 'Cloud Stack Platform' })).status).toBe(200);
  });

  it('does not let an admin grant owner or create a trusted client', async () => {
    const before = await state();
    const res = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'boss@acme.example', password: 'long-enough-3', roles: ['owner'] });
    expect(res.status).toBe(403);
    const trusted = await as(acmeAdmin).post('/v1/tenants/acme/clients', { name: 'fake gateway', client_type: 'confidential', grant_types: ['client_credentials'], trusted: true });
    expect(trusted.status).toBe(403);
    const governor = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'gov@acme.example', password: 'long-enough-3', is_governor: true });
    expect(governor.status).toBe(403);
    // Neither the owner nor the governor was created, nor the trusted client.
    expect(await state()).toEqual(before);
  });

  it('keeps a disallowed e-mail domain out of a restricted tenant', async () => {
    const res = await as(platformOwner).post('/v1/tenants/platform/users', { email: 'intruder@gmail.example', password: 'long-enough-4', roles: ['viewer'] });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://cloud-stack.dev/problems/email-domain-not-allowed', status: 422 });
    const users = await as(platformOwner).get('/v1/tenants/platform/users');
    const viewerUser = users.body.items.find((u: { email: string }) => u.email === 'viewer@cloudstack.example');
    const moved = await as(platformOwner).patch(`/v1/tenants/platform/users/${viewerUser.id}`, { email: 'viewer@elsewhere.example' });
    expect(moved.status).toBe(422);
    const allowed = await as(platformOwner).post('/v1/tenants/platform/users', { email: 'newhire@cloudstack.example', password: 'long-enough-4', roles: ['viewer'] });
    expect(allowed.status).toBe(201);
  });

  it('answers malformed JSON with problem+json and no stack trace', async () => {
    const res = await request(h.app).post('/v1/tenants/acme/users').auth(acmeAdmin, { type: 'bearer' }).set('Content-Type', 'application/json').send('{"email": "x@acme.example",');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'about:blank', status: 400, title: 'Bad Request' });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+|stack|SyntaxError/);
  });

  it('answers an oversized body with 413 problem+json', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(200_000) });
    const res = await request(h.app).patch('/v1/tenants/acme').auth(acmeAdmin, { type: 'bearer' }).set('Content-Type', 'application/json').send(big);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const form = await request(h.app).post('/oauth/token').type('form').send(`grant_type=password&username=${'a'.repeat(200_000)}`);
    expect(form.status).toBe(413);
    expect(form.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(form.body)).not.toMatch(/stack/);
  });

  it('answers a body that does not fit the schema with a 400 problem naming the field', async () => {
    const res = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'not-an-email', password: 'long-enough-5' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/email/);
    const extra = await as(acmeAdmin).post('/v1/tenants/acme/users', { email: 'ok@acme.example', password: 'long-enough-5', tenant_id: 'platform' });
    expect(extra.status).toBe(400);
  });
});
