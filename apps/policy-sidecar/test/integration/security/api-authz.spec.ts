import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { OPAClient } from '@open-policy-agent/opa';
import { ConfigError } from '@cloud-stack/service-kit';
import { readPolicyServerConfig } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const BASE = 'package base\n\nanswer := 42\n';
// A row filter in the base package, for partial evaluation (rows.tenant unknown).
const FILTER = '\nallowed if input.rows.tenant == input.subject.tenant\n';
const HOSTILE = 'package base\n\nanswer := 0\n';
const REJECTED = { code: 'unauthorized', message: 'request rejected by administrative policy' };
const CLIENT = 'client-token-for-tests-0001';
const ADMIN = 'admin-token-for-tests-0001';
const bearer = (token: string) => `Bearer ${token}`;

describe('the policy API is closed by default', () => {
  it('listens on loopback unless HOST says otherwise', () => {
    expect(readPolicyServerConfig({}).HOST).toBe('127.0.0.1');
    expect(readPolicyServerConfig({}).POLICY_AUTHORIZATION).toBe('off');
  });

  it('refuses to start in production without the Redis URL or, with token authentication, the client token', () => {
    expect(() => readPolicyServerConfig({ NODE_ENV: 'production' })).toThrow(new ConfigError('REDIS_URL', 'is required when NODE_ENV=production'));
    expect(() => readPolicyServerConfig({ NODE_ENV: 'production', DECISION_LOG_SINK: 'none', POLICY_AUTHENTICATION: 'token' })).toThrow(
      new ConfigError('POLICY_TOKEN', 'is required when NODE_ENV=production'),
    );
    expect(readPolicyServerConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://:pw@redis:6379' }).REDIS_URL).toBe('redis://:pw@redis:6379');
  });
});

describe('production without authorization', () => {
  const files = tempPolicyDir({ 'base.rego': BASE });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('refuses PUT and DELETE of policies and leaves the serving set unchanged', async () => {
    const put = await request(sc.app).put('/v1/policies/base.rego').set('Content-Type', 'text/plain').send(HOSTILE);
    expect(put.status).toBe(403);
    expect(put.body).toEqual({ code: 'unauthorized', message: expect.stringContaining('POLICY_AUTHORIZATION=basic') });
    const del = await request(sc.app).delete('/v1/policies/base.rego');
    expect(del.status).toBe(403);

    expect((await request(sc.app).get('/v1/policies')).body).toEqual({ result: [{ id: 'base.rego', raw: BASE }] });
    expect((await request(sc.app).post('/v1/data/base/answer').send({ input: {} })).body.result).toBe(42);
  });
});

describe('token authentication with the built-in system.authz policy', () => {
  const files = tempPolicyDir({ 'base.rego': BASE + FILTER });
  let sc: PolicySidecarApp;
  let server: Server;
  let sidecarUrl: string;
  beforeAll(async () => {
    sc = await sidecar({
      POLICY_DIR: files.dir,
      NODE_ENV: 'production',
      POLICY_AUTHENTICATION: 'token',
      POLICY_AUTHORIZATION: 'basic',
      POLICY_TOKEN: CLIENT,
      POLICY_ADMIN_TOKEN: ADMIN,
    });
    // The SDK speaks HTTP: the app on a loopback port.
    server = createServer(sc.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sidecarUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await sc.close();
    files.remove();
  });

  const answer = async () => (await request(sc.app).post('/v1/data/base/answer').set('Authorization', bearer(CLIENT)).send({ input: {} })).body.result;

  it('answers probes without a token', async () => {
    expect((await request(sc.app).get('/health')).status).toBe(200);
    expect((await request(sc.app).get('/ready')).status).toBe(200);
  });

  it('rejects a decision without a token, or with a wrong one, with OPA’s 401 body', async () => {
    for (const auth of [undefined, bearer('wrong'), `Basic ${Buffer.from(`x:${CLIENT}`).toString('base64')}`]) {
      const req = request(sc.app).post('/v1/data/base/answer');
      const res = await (auth ? req.set('Authorization', auth) : req).send({ input: {} });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REJECTED);
    }
    expect((await request(sc.app).get('/v1/data/base/answer')).status).toBe(401);
  });

  it('lets the client token query decisions but not data.system', async () => {
    expect(await answer()).toBe(42);
    const get = await request(sc.app).get('/v1/data/base/answer').set('Authorization', bearer(CLIENT));
    expect(get.body.result).toBe(42);
    const system = await request(sc.app).get('/v1/data/system/authz').set('Authorization', bearer(CLIENT));
    expect(system.status).toBe(401);
  });

  it('closes data.system however the URL names it (empty segments, the whole document)', async () => {
    for (const path of ['/v1/data/', '/v1/data//system/authz', '/v1/data']) {
      const res = await request(sc.app).get(path).set('Authorization', bearer(CLIENT));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REJECTED);
    }
  });

  it('lets the client token partially evaluate what it may decide: a data filter, or one reference as the query', async () => {
    const opa = new OPAClient(sidecarUrl, { headers: { Authorization: bearer(CLIENT) } });
    const filter = await opa.getFilters('base/allowed', { subject: { tenant: 't1' } }, { target: 'postgresql', unknowns: ['input.rows'] });
    expect(filter.query).toBe("WHERE rows.tenant = E't1'");

    const compile = await request(sc.app).post('/v1/compile').set('Authorization', bearer(CLIENT)).send({ query: 'data.base.allowed', input: { subject: { tenant: 't1' } }, unknowns: ['input.rows'] });
    expect(compile.status).toBe(200);
    expect(compile.body.result.queries).toHaveLength(1);
    expect((await request(sc.app).post('/v1/compile').set('Authorization', bearer(ADMIN)).send({ query: 'data.base.answer' })).status).toBe(200);
  });

  it('refuses the client token compile calls that could read data.system or run arbitrary queries, answering 401', async () => {
    const asClient = (path: string, body: unknown) => request(sc.app).post(path).set('Authorization', bearer(CLIENT)).send(body as object);
    for (const res of [
      await asClient('/v1/compile/system/authz/allow', {}),
      await asClient('/v1/compile//system/authz/allow', {}),
      await asClient('/v1/compile', { query: 'data.system.authz.admin_digests' }),
      await asClient('/v1/compile', { query: 'x := data' }),
      await asClient('/v1/compile', { query: 'x := opa.runtime()' }),
      await asClient('/v1/compile', { query: 'data.base.answer == 42' }),
      await asClient('/v1/compile', {}),
      await request(sc.app).post('/v1/compile').send({ query: 'data.base.answer' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REJECTED);
    }
    // The administrator may run any query, data.system included.
    const admin = await request(sc.app).post('/v1/compile').set('Authorization', bearer(ADMIN)).send({ query: 'x := data.system.authz.client_digests' });
    expect(admin.status).toBe(200);
  });

  it('reads an escaped slash in a compile path as part of one key, as system.authz saw it', async () => {
    const res = await request(sc.app).post('/v1/compile/system%2Fauthz/client_digests').set('Authorization', bearer(CLIENT)).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: {} });
  });

  it('answers a compile body that is not JSON with 400 before deciding, as OPA’s authorizer', async () => {
    const res = await request(sc.app).post('/v1/compile').set('Authorization', bearer(CLIENT)).set('Content-Type', 'application/json').send('{"query":');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_parameter' });
  });

  it('refuses policy writes to anonymous and client callers and changes nothing', async () => {
    for (const auth of [undefined, bearer(CLIENT)]) {
      const put = request(sc.app).put('/v1/policies/base.rego').set('Content-Type', 'text/plain');
      expect((await (auth ? put.set('Authorization', auth) : put).send(HOSTILE)).body).toEqual(REJECTED);
      const del = request(sc.app).delete('/v1/policies/base.rego');
      expect((await (auth ? del.set('Authorization', auth) : del)).status).toBe(401);
    }
    expect((await request(sc.app).get('/v1/policies')).status).toBe(401);
    expect((await request(sc.app).get('/v1/status')).status).toBe(401);
    expect(await answer()).toBe(42);
  });

  it('lets a client read the modules and the status (what an operator console shows), token digests only', async () => {
    const list = await request(sc.app).get('/v1/policies').set('Authorization', bearer(CLIENT));
    expect(list.status).toBe(200);
    expect(list.body.result.map((p: { id: string }) => p.id)).toContain('base.rego');
    expect(JSON.stringify(list.body)).not.toContain(CLIENT);
    expect((await request(sc.app).get('/v1/status').set('Authorization', bearer(CLIENT))).status).toBe(200);
  });

  it('lets the admin token write policies, reading back only token digests', async () => {
    const put = await request(sc.app).put('/v1/policies/extra').set('Authorization', bearer(ADMIN)).set('Content-Type', 'text/plain').send('package extra\n\nv := 1\n');
    expect(put.status).toBe(200);
    const list = await request(sc.app).get('/v1/policies').set('Authorization', bearer(ADMIN));
    expect(list.body.result.map((p: { id: string }) => p.id)).toEqual(['base.rego', 'extra', 'system/authz.rego']);
    expect(JSON.stringify(list.body)).not.toContain(CLIENT);
    expect(JSON.stringify(list.body)).not.toContain(ADMIN);
  });
});

describe('a system.authz policy from the policy directory', () => {
  // Decides on the body as OPA gives it (input.body) and explains refusals with a reason.
  const AUTHZ = `package system.authz

allow := {"allowed": true} if input.path == ["health"]

allow := {"allowed": true} if {
	input.identity == "ops"
	input.method == "POST"
	input.body.input.user == "alice"
}

allow := {"allowed": false, "reason": "alice only"} if {
	input.identity == "ops"
	input.body.input.user != "alice"
}
`;
  const files = tempPolicyDir({ 'base.rego': BASE, 'system/authz.rego': AUTHZ });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, POLICY_AUTHENTICATION: 'token', POLICY_AUTHORIZATION: 'basic', POLICY_TOKEN: CLIENT });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('replaces the built-in policy and sees identity, method, path and body', async () => {
    const ok = await request(sc.app).post('/v1/data/base/answer').set('Authorization', 'Bearer ops').send({ input: { user: 'alice' } });
    expect(ok.body.result).toBe(42);
    // The built-in policy's client token means nothing here.
    expect((await request(sc.app).post('/v1/data/base/answer').set('Authorization', bearer(CLIENT)).send({ input: { user: 'alice' } })).status).toBe(500);
  });

  it('answers the policy’s reason with 401', async () => {
    const res = await request(sc.app).post('/v1/data/base/answer').set('Authorization', 'Bearer ops').send({ input: { user: 'bob' } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 'unauthorized', message: 'alice only' });
  });

  it('answers 500 when allow is undefined for the request, as OPA does', async () => {
    const res = await request(sc.app).get('/v1/policies');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'internal_error', message: 'authorization policy missing or undefined' });
  });
});
