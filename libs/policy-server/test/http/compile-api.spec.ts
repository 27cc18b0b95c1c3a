import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createLogger } from '@cloud-stack/service-kit';
import { openPolicyServer, policyServerApp, readPolicyServerConfig, type PolicyServer } from '../../src/index';

const POLICY = `package t

default dflt := false
dflt if input.rows.owner == input.user

include if input.rows.owner == input.user
include if input.admin == true

bad if input.rows.a == 1
else := 2 if input.rows.b
`;

const JSON_AST = 'application/json';
const UCAST = 'application/vnd.opa.ucast.all+json';
const MULTI = 'application/vnd.opa.multitarget+json';

describe('POST /v1/compile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compile-api-'));
  writeFileSync(join(dir, 't.rego'), POLICY);
  let server: PolicyServer;
  let app: ReturnType<typeof policyServerApp>;
  beforeAll(async () => {
    const logger = createLogger('compile-api-test', 'silent');
    server = await openPolicyServer(readPolicyServerConfig({ POLICY_DIR: dir, POLICY_WATCH: 'false', DECISION_LOG_SINK: 'none' }), { logger });
    app = policyServerApp(server, logger);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const compile = (body: unknown, accept = JSON_AST, path = '') =>
    request(app)
      .post(`/v1/compile${path}`)
      .set('Accept', accept)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  it('puts rules with a default into a support module, as OPA’s JSON AST', async () => {
    const res = await compile({ query: 'data.t.dflt', input: { user: 'u1' }, unknowns: ['input.rows'] });
    expect(res.status).toBe(200);
    const ref = (...p: string[]) => ({ type: 'ref', value: [{ type: 'var', value: 'data' }, ...p.map((s) => ({ type: 'string', value: s }))] });
    expect(res.body.result.queries).toEqual([[{ index: 0, terms: ref('partial', 't', 'dflt') }]]);
    expect(res.body.result.support).toEqual([
      {
        package: { path: [{ type: 'var', value: 'data' }, { type: 'string', value: 'partial' }, { type: 'string', value: 't' }] },
        rules: [
          { default: true, head: { name: 'dflt', ref: [{ type: 'var', value: 'dflt' }], value: { type: 'boolean', value: false } }, body: [{ index: 0, terms: { type: 'boolean', value: true } }] },
          {
            head: { name: 'dflt', ref: [{ type: 'var', value: 'dflt' }], value: { type: 'boolean', value: true } },
            body: [
              {
                index: 0,
                terms: [
                  { type: 'ref', value: [{ type: 'var', value: 'eq' }] },
                  { type: 'ref', value: [{ type: 'var', value: 'input' }, { type: 'string', value: 'rows' }, { type: 'string', value: 'owner' }] },
                  { type: 'string', value: 'u1' },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('answers an empty result for a query that can never be true', async () => {
    const res = await compile({ query: 'data.t.include', input: { admin: false }, unknowns: ['input.rows'] });
    expect(res.body).toEqual({ result: {} });
  });

  it('answers OPA’s AST on plain /v1/compile to an Accept list that takes JSON (OPA ignores Accept there)', async () => {
    const res = await compile({ query: 'data.t.include', input: { admin: false, user: 'u1' }, unknowns: ['input.rows'] }, `${JSON_AST};q=1, ${UCAST};q=0.5`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_AST);
    expect(res.body.result.queries).toHaveLength(1);
  });

  it('answers several targets at once for the multitarget media type, with the Content-Type asked for', async () => {
    const res = await compile({ input: { user: 'u1' }, unknowns: ['input.rows'], options: { targetDialects: ['ucast+all', 'sql+postgresql', 'sql+sqlite'] } }, MULTI, '/t/include');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MULTI);
    expect(res.body).toEqual({
      result: {
        targets: {
          ucast: { query: { type: 'field', operator: 'eq', field: 'rows.owner', value: 'u1' } },
          postgresql: { query: "WHERE rows.owner = E'u1'" },
          sqlite: { query: "WHERE rows.owner = 'u1'" },
        },
      },
    });
  });

  it('answers no condition when the known input already decides, and no result when it denies', async () => {
    expect((await compile({ input: { admin: true }, unknowns: ['input.rows'] }, UCAST, '/t/include')).body).toEqual({ result: { query: {} } });
    const never = await compile({ input: { admin: false }, unknowns: ['input.rows'] }, UCAST, '/t/include');
    expect(never.status).toBe(200);
    expect(never.body).toEqual({});
  });

  it.each([
    ['a body that is not JSON', '{', JSON_AST, '', 400, 'invalid_parameter', /error\(s\) occurred while decoding request/],
    ['no query', {}, JSON_AST, '', 400, 'invalid_parameter', /missing required "query"/],
    ['an unknown outside input and data', { query: 'data.t.include', unknowns: ['x.y'] }, JSON_AST, '', 400, 'invalid_parameter', /invalid unknown "x.y"/],
    ['several media types', {}, `${UCAST}, ${JSON_AST}`, '/t/include', 400, 'invalid_parameter', /multiple headers not supported/],
    ['an unknown target dialect', { options: { targetDialects: ['sql+oracle'] } }, MULTI, '/t/include', 400, 'invalid_parameter', /targetDialects/],
    ['a query that does not parse', { query: 'data.t.include ==' }, JSON_AST, '', 400, 'invalid_parameter', /parsing query/],
  ] as const)('refuses %s', async (_what, body, accept, path, status, code, message) => {
    const req = request(app).post(`/v1/compile${path}`).set('Accept', accept).set('Content-Type', 'application/json');
    const res = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.body.message).toMatch(message);
  });

  it('names what partial evaluation does not support with 400 pe_unsupported_error', async () => {
    const res = await compile({ query: 'data.t.bad', unknowns: ['input.rows'] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'evaluation_error', errors: [{ code: 'pe_unsupported_error', message: expect.stringContaining('else on rules that depend on unknowns (data.t.bad)') }] });
  });
});
