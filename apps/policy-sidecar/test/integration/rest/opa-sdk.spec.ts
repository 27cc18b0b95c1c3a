import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPAClient } from '@open-policy-agent/opa';
import { OpaApiClient } from '@open-policy-agent/opa/sdk/index.js';
import { SDKError } from '@open-policy-agent/opa/sdk/models/errors';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package authz

default allow := false

allow if input.user in data.users.admins

roles contains "reader"
roles contains "writer" if allow

clash := 1
clash := 2
`;
const MAIN = `package system

main := {"allowed": data.authz.allow, "user": input.user}
`;
const ADMIN = 'admin-token-for-the-sdk';

/**
 * OPA's official TypeScript SDK (@open-policy-agent/opa 2.0) as the client of a listening
 * sidecar: what an application written against OPA gets from us.
 */
describe('the official OPA TypeScript SDK against the sidecar', () => {
  const files = tempPolicyDir({ 'authz.rego': POLICY, 'system/main.rego': MAIN, 'users/data.json': JSON.stringify({ admins: ['alice'] }) });
  let sc: PolicySidecarApp;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    sc = await sidecar({
      POLICY_DIR: files.dir,
      POLICY_AUTHENTICATION: 'token',
      POLICY_AUTHORIZATION: 'basic',
      POLICY_ADMIN_TOKEN: ADMIN,
    });
    server = createServer(sc.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sc.close();
    files.remove();
  });

  const client = () => new OPAClient(url, { headers: { Authorization: `Bearer ${ADMIN}` } });

  it('evaluate: a path with and without input', async () => {
    expect(await client().evaluate('authz/allow', { user: 'alice' })).toBe(true);
    expect(await client().evaluate('authz/allow', { user: 'bob' })).toBe(false);
    expect(await client().evaluate<Record<string, never>, string[]>('authz/roles')).toEqual(['reader']);
  });

  it('evaluateDefault: POST / with the input as the body', async () => {
    expect(await client().evaluateDefault({ user: 'alice' })).toEqual({ allowed: true, user: 'alice' });
  });

  it('a call system.authz refuses fails in the SDK with status 401', async () => {
    const refused = await new OPAClient(url).evaluate('authz/allow', { user: 'alice' }).then(
      () => undefined,
      (err: unknown) => err as SDKError,
    );
    expect(refused).toBeInstanceOf(SDKError);
    expect(refused?.httpMeta.response.status).toBe(401);
  });

  it('an evaluation error reaches the SDK caller with the OPA error code', async () => {
    await expect(client().evaluate('authz/allow', { user: 'alice' }, { fromResult: () => undefined })).resolves.toBeUndefined();
    const clash = await client()
      .evaluate('authz/clash', {})
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(clash).toMatchObject({ code: 'internal_error', message: 'error(s) occurred while evaluating query' });
  });

  it('health: the low-level client reads /health (with ?bundles once the directory has loaded)', async () => {
    const api = new OpaApiClient({ serverURL: url, bearerAuth: ADMIN });
    const health = await api.health();
    expect(health.httpMeta.response.status).toBe(200);
    expect(health.healthyServer).toEqual({});
    expect((await api.health(true)).httpMeta.response.status).toBe(200);
  });

  it('data written through the API is what the SDK evaluates next', async () => {
    const res = await fetch(`${url}/v1/data/users/admins`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(['alice', 'bob']),
    });
    expect(res.status).toBe(204);
    expect(await client().evaluate('authz/allow', { user: 'bob' })).toBe(true);
  });
});
