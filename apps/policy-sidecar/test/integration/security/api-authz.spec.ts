import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ConfigError } from '@cloud-stack/service-kit';
import { readPolicyServerConfig } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const BASE = 'package base\n\nanswer := 42\n';
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
  const files = tempPolicyDir({ 'base.rego': BASE });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({
      POLICY_DIR: files.dir,
      NODE_ENV: 'production',
      POLICY_AUTHENTICATION: 'token',
      POLICY_AUTHORIZATION: 'basic',
      POLICY_TOKEN: CLIENT,
      POLICY_ADMIN_TOKEN: ADMIN,
    });
  });
  afterAll(async () => {
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

  it('refuses policy writes to anonymous and client callers and changes nothing', async () => {
    for (const auth of [undefined, bearer(CLIENT)]) {
      const put = request(sc.app).put('/v1/policies/base.rego').set('Content-Type', 'text/plain');
      expect((await (auth ? put.set('Authorization', auth) : put).send(HOSTILE)).body).toEqual(REJECTED);
      const del = request(sc.app).delete('/v1/policies/base.rego');
      expect((await (auth ? del.set('Authorization', auth) : del)).status).toBe(401);
      const list = request(sc.app).get('/v1/policies');
      expect((await (auth ? list.set('Authorization', auth) : list)).status).toBe(401);
    }
    expect(await answer()).toBe(42);
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
