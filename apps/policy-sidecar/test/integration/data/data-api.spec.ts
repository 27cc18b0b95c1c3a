import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package example

default allow := false

allow if input.user == data.example_data.admin

greeting := sprintf("hello %s", [input.user])

roles contains "admin" if allow
roles contains "user"

conflict := 1
conflict := 2 if input.clash
`;

describe('Data API', () => {
  const files = tempPolicyDir({ 'example.rego': POLICY, 'example_data/data.json': JSON.stringify({ admin: 'alice' }) });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, BODY_LIMIT: '2kb' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('answers a defined document with result and decision_id', async () => {
    const res = await request(sc.app).post('/v1/data/example/allow').send({ input: { user: 'alice' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({ decision_id: expect.any(String), result: true });
    expect(res.text).toMatch(/^\{"decision_id":"[^"]+","result":true\}\n$/);
  });

  it('answers 200 without result when the document is undefined', async () => {
    const res = await request(sc.app).post('/v1/data/example/missing').send({ input: { user: 'bob' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ decision_id: expect.any(String) });
  });

  it('evaluates GET with the input as a JSON query parameter', async () => {
    const res = await request(sc.app).get('/v1/data/example/greeting').query({ input: JSON.stringify({ user: 'carol' }) });
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('hello carol');
  });

  it('renders sets as sorted arrays', async () => {
    const res = await request(sc.app).post('/v1/data/example/roles').send({ input: { user: 'alice' } });
    expect(res.body.result).toEqual(['admin', 'user']);
  });

  it('adds OPA timers with ?metrics=true', async () => {
    const res = await request(sc.app).post('/v1/data/example/allow?metrics=true').send({ input: { user: 'alice' } });
    expect(Object.keys(res.body)).toEqual(['decision_id', 'metrics', 'result']);
    expect(res.body.metrics).toMatchObject({
      timer_rego_query_eval_ns: expect.any(Number),
      timer_server_handler_ns: expect.any(Number),
      timer_rego_input_parse_ns: expect.any(Number),
    });
  });

  it('indents with ?pretty=true', async () => {
    const res = await request(sc.app).post('/v1/data/example/allow?pretty=true').send({ input: { user: 'alice' } });
    expect(res.text).toMatch(/^\{\n {2}"decision_id": "[^"]+",\n {2}"result": true\n\}\n$/);
  });

  it('warns like OPA when the body has no input key', async () => {
    const res = await request(sc.app).post('/v1/data/example/allow').send({});
    expect(res.body).toEqual({
      decision_id: expect.any(String),
      result: false,
      warning: { code: 'api_usage_warning', message: "'input' key missing from the request" },
    });
  });

  it('answers the whole data document on POST /v1/data', async () => {
    const res = await request(sc.app).post('/v1/data').send({ input: { user: 'alice' } });
    expect(res.status).toBe(200);
    expect(res.body.result.example_data).toEqual({ admin: 'alice' });
    expect(res.body.result.example.allow).toBe(true);
  });

  it('rejects a malformed body with 400 invalid_parameter', async () => {
    const res = await request(sc.app).post('/v1/data/example/allow').set('Content-Type', 'application/json').send('{"input": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_parameter', message: expect.stringMatching(/^body contains malformed input document/) });
  });

  it('rejects a malformed input parameter with 400 invalid_parameter', async () => {
    const res = await request(sc.app).get('/v1/data/example/allow').query({ input: '{nope' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_parameter');
  });

  it('accepts a gzip-encoded body, as OPA does', async () => {
    const res = await request(sc.app)
      .post('/v1/data/example/allow')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((body: Buffer) => body as unknown as string) // send the gzip bytes as they are
      .send(gzipSync(JSON.stringify({ input: { user: 'alice' } })));
    expect(res.status).toBe(200);
    expect(res.body.result).toBe(true);
  });

  it('answers 413 when the body exceeds BODY_LIMIT', async () => {
    const res = await request(sc.app)
      .post('/v1/data/example/allow')
      .send({ input: { user: 'x'.repeat(4096) } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ code: 'invalid_parameter', message: 'request body too large' });
  });

  it('answers evaluation errors as OPA: 500 internal_error with the engine error', async () => {
    const res = await request(sc.app).post('/v1/data/example/conflict').send({ input: { clash: true } });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({
      code: 'internal_error',
      message: 'error(s) occurred while evaluating query',
      errors: [{ code: 'eval_conflict_error', message: expect.any(String) }],
    });
  });

  it('answers unknown API paths with 404 resource_not_found', async () => {
    const res = await request(sc.app).get('/v2/whatever');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('resource_not_found');
  });

  it('serves /v1/data and /v1/data/… only (writes: test/integration/rest/data-write.spec.ts); the rest is the API’s 404', async () => {
    const other = await request(sc.app).post('/v1/database').send({ input: {} });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('resource_not_found');
    const head = await request(sc.app).head('/v1/data/example/roles');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/json');
  });

  it('echoes a well-formed X-Correlation-ID on decisions and replaces an unsafe one', async () => {
    const given = await request(sc.app).post('/v1/data/example/allow').set('X-Correlation-ID', 'req-42').send({ input: { user: 'bob' } });
    expect(given.headers['x-correlation-id']).toBe('req-42');
    const unsafe = await request(sc.app).post('/v1/data/example/allow').set('X-Correlation-ID', 'a b\tc').send({ input: { user: 'bob' } });
    expect(unsafe.headers['x-correlation-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  });

  it('answers a path segment that is not valid percent-encoding with 400, before reading the body', async () => {
    const res = await request(sc.app).post('/v1/data/example/%E0%A4%A').send({ input: {} });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_parameter', message: expect.stringContaining('invalid path segment') });
  });

  it('reports healthy with an empty object', async () => {
    const res = await request(sc.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{}\n');
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
  });
});

describe('evaluation timeout', () => {
  const files = tempPolicyDir({
    'slow.rego': `package slow

n := count([x | some x in numbers.range(1, 2000000); y := x * x; y % 7 == 0])

fast := 1
`,
  });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    // No step budget: only the time limit can stop this evaluation.
    sc = await sidecar({ POLICY_DIR: files.dir, EVAL_TIMEOUT_MS: '20', EVAL_MAX_STEPS: '0' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('stops the evaluation at EVAL_TIMEOUT_MS with OPA\'s eval_cancel_error body and keeps serving', async () => {
    const res = await request(sc.app).post('/v1/data/slow/n').send({ input: {} });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      code: 'internal_error',
      message: 'error(s) occurred while evaluating query',
      errors: [{ code: 'eval_cancel_error', message: 'caller cancelled query execution' }],
    });
    expect((await request(sc.app).post('/v1/data/slow/fast').send({ input: {} })).body.result).toBe(1);
  });
});

describe('evaluation step budget', () => {
  const files = tempPolicyDir({
    'slow.rego': `package slow

n := count([x | some x in numbers.range(1, 300000); x % 7 == 0])

fast := 1
`,
  });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, EVAL_MAX_STEPS: '5000', EVAL_TIMEOUT_MS: '60000' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('stops a runaway evaluation with an eval_cancel_error and keeps serving', async () => {
    const res = await request(sc.app).post('/v1/data/slow/n').send({ input: {} });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'internal_error', errors: [{ code: 'eval_cancel_error' }] });
    expect((await request(sc.app).post('/v1/data/slow/fast').send({ input: {} })).body.result).toBe(1);
  });
});
