import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package servers

public contains s.name if {
  some s in data.inventory.servers
  s.public
}

clash := 1

clash := 2 if input.clash
`;
const INVENTORY = JSON.stringify({ servers: [{ name: 'web', public: true }, { name: 'db', public: false }, { name: 'cdn', public: true }] });

describe('Query API: GET and POST /v1/query', () => {
  const files = tempPolicyDir({ 'servers.rego': POLICY, 'inventory/data.json': INVENTORY });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, EVAL_MAX_STEPS: '5000' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('GET ?q= answers every set of bindings, wildcards left out', async () => {
    const res = await request(sc.app).get('/v1/query').query({ q: 'data.inventory.servers[i].name = name; data.servers.public[name]; _ = i' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.text).toBe('{"result":[{"i":0,"name":"web"},{"i":2,"name":"cdn"}]}\n');
  });

  it('answers [{}] for a defined query without variables and {} for an undefined one', async () => {
    expect((await request(sc.app).get('/v1/query').query({ q: 'data.servers.public["web"]' })).body).toEqual({ result: [{}] });
    const undefinedQuery = await request(sc.app).get('/v1/query').query({ q: 'data.servers.public["db"]' });
    expect(undefinedQuery.status).toBe(200);
    expect(undefinedQuery.text).toBe('{}\n');
  });

  it('POST takes {"query", "input"}', async () => {
    const res = await request(sc.app).post('/v1/query').send({ query: 'x := input.n + 1', input: { n: 41 } });
    expect(res.body).toEqual({ result: [{ x: 42 }] });
    const noInput = await request(sc.app).post('/v1/query').send({ query: 'not input.n', input: null });
    expect(noInput.body).toEqual({ result: [{}] });
  });

  it('answers 400 for a missing q, a query that does not parse or compile, or a malformed body', async () => {
    expect((await request(sc.app).get('/v1/query')).body).toEqual({ code: 'invalid_parameter', message: "missing parameter 'q'" });
    const parse = await request(sc.app).get('/v1/query').query({ q: 'x = ' });
    expect(parse.status).toBe(400);
    expect(parse.body).toEqual({
      code: 'invalid_parameter',
      message: 'error(s) occurred while parsing query',
      errors: [{ code: 'rego_parse_error', message: expect.any(String), location: { file: 'query', row: 1, col: expect.any(Number) } }],
    });
    const compile = await request(sc.app).post('/v1/query').send({ query: 'y' });
    expect(compile.status).toBe(400);
    expect(compile.body).toMatchObject({ code: 'invalid_parameter', message: 'error(s) occurred while compiling query', errors: [{ code: 'rego_unsafe_var_error' }] });
    const body = await request(sc.app).post('/v1/query').set('Content-Type', 'application/json').send('{"query":');
    expect(body.status).toBe(400);
    expect(body.body.message).toMatch(/^error\(s\) occurred while decoding request: /);
  });

  it('answers 500 with the engine errors when evaluation fails', async () => {
    const res = await request(sc.app).post('/v1/query').send({ query: 'x := data.servers.clash', input: { clash: true } });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'internal_error', message: 'error(s) occurred while evaluating query', errors: [{ code: 'eval_conflict_error' }] });
    const runaway = await request(sc.app).get('/v1/query').query({ q: 'x := numbers.range(1, 100000); count([y | some y in x; y > 0]) > 0' });
    expect(runaway.status).toBe(500);
    expect(runaway.body.errors).toEqual([{ code: 'eval_cancel_error', message: 'caller cancelled query execution' }]);
  });

  it('adds metrics with ?metrics or ?instrument, and answers other methods 405', async () => {
    for (const flag of ['metrics', 'instrument']) {
      const res = await request(sc.app).get(`/v1/query?${flag}=true`).query({ q: 'x := 1' });
      expect(res.body).toEqual({
        metrics: { timer_rego_query_parse_ns: expect.any(Number), timer_rego_query_eval_ns: expect.any(Number), timer_server_handler_ns: expect.any(Number) },
        result: [{ x: 1 }],
      });
    }
    expect((await request(sc.app).delete('/v1/query')).status).toBe(405);
  });
});
