import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

describe('Policy API', () => {
  const files = tempPolicyDir({ 'base.rego': 'package base\n\nanswer := 42\n' });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('lists the modules loaded from the directory', async () => {
    const res = await request(sc.app).get('/v1/policies');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: [{ id: 'base.rego', raw: 'package base\n\nanswer := 42\n' }] });
  });

  it('creates a policy with PUT text/plain and serves its documents', async () => {
    const source = 'package api.created\n\nallow if input.ok == true\n';
    const put = await request(sc.app).put('/v1/policies/api/created').set('Content-Type', 'text/plain').send(source);
    expect(put.status).toBe(200);
    expect(put.text).toBe('{}\n');

    const got = await request(sc.app).get('/v1/policies/api/created');
    expect(got.body).toEqual({ result: { id: 'api/created', raw: source } });

    const decision = await request(sc.app).post('/v1/data/api/created/allow').send({ input: { ok: true } });
    expect(decision.body.result).toBe(true);
  });

  it('replaces a policy with the same id', async () => {
    await request(sc.app).put('/v1/policies/replace').set('Content-Type', 'text/plain').send('package rep\n\nv := 1\n').expect(200);
    await request(sc.app).put('/v1/policies/replace').set('Content-Type', 'text/plain').send('package rep\n\nv := 2\n').expect(200);
    const res = await request(sc.app).post('/v1/data/rep/v').send({ input: {} });
    expect(res.body.result).toBe(2);
  });

  it('rejects a parse error with OPA’s 400 body and keeps the previous set', async () => {
    const res = await request(sc.app).put('/v1/policies/broken').set('Content-Type', 'text/plain').send('package broken\n\nallow if {\n');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 'invalid_parameter',
      message: 'error(s) occurred while compiling module(s)',
      errors: [
        {
          code: 'rego_parse_error',
          message: expect.any(String),
          location: { file: 'broken', row: expect.any(Number), col: expect.any(Number) },
        },
      ],
    });
    expect((await request(sc.app).get('/v1/policies/broken')).status).toBe(404);
    expect((await request(sc.app).post('/v1/data/base/answer').send({ input: {} })).body.result).toBe(42);
  });

  it('rejects a compile error with 400 and the compiler’s error code', async () => {
    const res = await request(sc.app).put('/v1/policies/unsafe').set('Content-Type', 'text/plain').send('package unsafe\n\nallow if x > 1\n');
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('error(s) occurred while compiling module(s)');
    expect(res.body.errors[0].code).toMatch(/^rego_(unsafe_var|compile)_error$/);
  });

  it('deletes a policy; its documents become undefined', async () => {
    await request(sc.app).put('/v1/policies/gone').set('Content-Type', 'text/plain').send('package gone\n\nv := true\n').expect(200);
    const del = await request(sc.app).delete('/v1/policies/gone');
    expect(del.status).toBe(200);
    expect(del.text).toBe('{}\n');
    const res = await request(sc.app).post('/v1/data/gone/v').send({ input: {} });
    expect(res.body).toEqual({ decision_id: expect.any(String) });
  });

  it('answers 404 resource_not_found for an unknown policy id', async () => {
    for (const res of [await request(sc.app).get('/v1/policies/nope'), await request(sc.app).delete('/v1/policies/nope')]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'resource_not_found', message: 'storage_not_found_error: policy id "nope"' });
    }
  });
});
