import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const MAIN = `package system

main := {"greeting": sprintf("hello %s", [input.name])} if input.name
`;
const CUSTOM = `package app.entry

decision := {"input_was": input}
`;
const ADMIN = 'admin-token-for-default-decision';
const CLIENT = 'client-token-for-default-decision';

describe('POST / evaluates the default decision (data.system.main)', () => {
  const files = tempPolicyDir({ 'system/main.rego': MAIN });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('takes the body as the input itself and answers the bare result', async () => {
    const res = await request(sc.app).post('/').send({ name: 'alice' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.text).toBe('{"greeting":"hello alice"}\n');
    expect((await request(sc.app).post('/?pretty=true').send({ name: 'bob' })).text).toBe('{\n  "greeting": "hello bob"\n}\n');
  });

  it('accepts YAML input, as OPA', async () => {
    const res = await request(sc.app).post('/').set('Content-Type', 'application/x-yaml').send('name: carol\n');
    expect(res.body).toEqual({ greeting: 'hello carol' });
  });

  it('answers 404 undefined_document when the decision is undefined (rules exist) or missing (no rules)', async () => {
    const undefinedDoc = await request(sc.app).post('/').send({});
    expect(undefinedDoc.status).toBe(404);
    expect(undefinedDoc.body).toEqual({ code: 'undefined_document', message: 'document undefined: data.system.main' });
    // An empty body is a null input (OPA's v0 input handling): still undefined here.
    expect((await request(sc.app).post('/')).status).toBe(404);
  });

  it('answers 400 for a malformed body', async () => {
    const res = await request(sc.app).post('/').set('Content-Type', 'application/json').send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_parameter');
    expect(res.body.message).toMatch(/^unexpected parse error for input: body contains malformed input document: /);
  });
});

describe('POST / with default_decision from an OPA configuration file', () => {
  const files = tempPolicyDir({ 'app/entry.rego': CUSTOM });
  const configs = tempPolicyDir({ 'opa.yaml': 'default_decision: app/entry/decision\n', 'missing.yaml': 'default_decision: /nothing/here\n' });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, POLICY_CONFIG_FILE: join(configs.dir, 'opa.yaml') });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
    configs.remove();
  });

  it('evaluates that document, with a JSON array or scalar as the input too', async () => {
    expect((await request(sc.app).post('/').send([1, 2])).body).toEqual({ input_was: [1, 2] });
    expect((await request(sc.app).post('/').type('json').send('"text"')).body).toEqual({ input_was: 'text' });
  });

  it('names a document without rules "missing"', async () => {
    const app = await sidecar({ POLICY_DIR: files.dir, POLICY_CONFIG_FILE: join(configs.dir, 'missing.yaml') });
    try {
      const res = await request(app.app).post('/').send({});
      expect(res.body).toEqual({ code: 'undefined_document', message: 'document missing: data.nothing.here' });
    } finally {
      await app.close();
    }
  });
});

describe('POST / under system.authz', () => {
  const files = tempPolicyDir({ 'system/main.rego': MAIN });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({
      POLICY_DIR: files.dir,
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

  it('is refused without a token the policy admits, and answered with one', async () => {
    const anonymous = await request(sc.app).post('/').send({ name: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ code: 'unauthorized', message: 'request rejected by administrative policy' });
    // The built-in policy lets clients use the Data API only.
    expect((await request(sc.app).post('/').set('Authorization', `Bearer ${CLIENT}`).send({ name: 'x' })).status).toBe(401);
    expect((await request(sc.app).post('/').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'x' })).body).toEqual({ greeting: 'hello x' });
  });

  it('shows system.authz the parsed body as input.body (OPA does for POST /)', async () => {
    const policy = `package system.authz

default allow := false

allow if input.body.name == "let-me-in"
`;
    expect((await request(sc.app).put('/v1/policies/system/authz.rego').set('Authorization', `Bearer ${ADMIN}`).type('text/plain').send(policy)).status).toBe(200);
    expect((await request(sc.app).post('/').send({ name: 'let-me-in' })).body).toEqual({ greeting: 'hello let-me-in' });
    expect((await request(sc.app).post('/').send({ name: 'someone' })).status).toBe(401);
  });
});
