import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SIDECAR_VERSION } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package app

allow if {
  trace("checking the role")
  input.role == "admin"
}
`;

describe('?explain, ?provenance, ?instrument on the Data and Query APIs', () => {
  const files = tempPolicyDir({ 'app.rego': POLICY });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('explain=notes lists the trace() notes with the query and rule that led to them (pretty: OPA text lines)', async () => {
    const res = await request(sc.app).post('/v1/data/app/allow?explain=notes&pretty=true').send({ input: { role: 'admin' } });
    expect(res.status).toBe(200);
    expect(res.body.result).toBe(true);
    expect(res.body.explanation).toEqual([
      'query:1        Enter data.app.allow',
      'app.rego:3     | Enter data.app.allow',
      'app.rego:4     | | Note "checking the role"',
    ]);
  });

  it('explain=fails lists the literal that failed; an undefined document gets an explanation only in full', async () => {
    const defined = await request(sc.app).post('/v1/data/app?explain=fails&pretty').send({ input: { role: 'viewer' } });
    expect(defined.body.result).toEqual({});
    expect(defined.body.explanation).toContain('app.rego:5     | | Fail input.role == "admin"');
    const undefinedFails = await request(sc.app).post('/v1/data/app/allow?explain=fails').send({ input: { role: 'viewer' } });
    expect(undefinedFails.body).toEqual({ decision_id: expect.any(String) });
    const full = await request(sc.app).get('/v1/data/app/allow?explain=full&pretty&input={"role":"viewer"}');
    expect(full.body.explanation).toEqual([
      'query:1        Enter data.app.allow',
      'query:1        | Eval data.app.allow',
      'app.rego:3     | Enter data.app.allow',
      'app.rego:4     | | Eval trace("checking the role")',
      'app.rego:4     | | Note "checking the role"',
      'app.rego:5     | | Eval input.role == "admin"',
      'app.rego:5     | | Fail input.role == "admin"',
      'query:1        | Fail data.app.allow',
    ]);
  });

  it('without pretty, the explanation is OPA trace event objects', async () => {
    const res = await request(sc.app).post('/v1/data/app/allow?explain=notes').send({ input: { role: 'admin' } });
    const [query, rule, note] = res.body.explanation as Array<Record<string, unknown>>;
    expect(query).toMatchObject({ op: 'enter', query_id: 0, parent_id: 0, type: 'expr', locals: [] });
    expect(rule).toMatchObject({ op: 'enter', query_id: 1, parent_id: 0, type: 'rule', node: { location: { file: 'app.rego', row: 3, col: 1 } } });
    expect(note).toEqual({
      op: 'note',
      query_id: 1,
      parent_id: 0,
      type: 'expr',
      node: { text: 'trace("checking the role")', location: { file: 'app.rego', row: 4, col: 3 } },
      locals: [],
      message: 'checking the role',
    });
  });

  it('provenance names the version and the serving revision; the response keeps OPA field order', async () => {
    const res = await request(sc.app).post('/v1/data/app/allow?provenance=true&metrics=true').send({ input: { role: 'admin' } });
    expect(res.body.provenance).toEqual({
      version: SIDECAR_VERSION,
      build_commit: '',
      build_timestamp: '',
      build_hostname: '',
      bundles: { [basename(files.dir)]: { revision: String(sc.server.store.current().revision) } },
    });
    expect(Object.keys(res.body)).toEqual(['decision_id', 'provenance', 'metrics', 'result']);
  });

  it('instrument adds the metrics, on GET too', async () => {
    const res = await request(sc.app).get('/v1/data/app/allow?instrument&input={"role":"admin"}');
    expect(res.body.metrics).toEqual({
      counter_server_query_cache_hit: 1,
      timer_rego_input_parse_ns: expect.any(Number),
      timer_rego_query_eval_ns: expect.any(Number),
      timer_server_handler_ns: expect.any(Number),
    });
  });

  it('explains ad-hoc queries too', async () => {
    const res = await request(sc.app).post('/v1/query?explain=notes&pretty').send({ query: 'data.app.allow; trace("after")', input: { role: 'admin' } });
    expect(res.body).toEqual({
      explanation: [
        'query:1        Enter data.app.allow; trace("after")',
        'app.rego:3     | Enter data.app.allow',
        'app.rego:4     | | Note "checking the role"',
        'query:1        | Note "after"',
      ],
      result: [{}],
    });
  });
});
