import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPAClient } from '@open-policy-agent/opa';
import { OpaApiClient } from '@open-policy-agent/opa/sdk/index.js';
import { CompileQueryWithPartialEvaluationAcceptEnum as Accept } from '@open-policy-agent/opa/sdk/index.js';
import type { PolicySidecarApp } from '../src/app';
import { sidecar, tempPolicyDir } from './support/sidecar';

/**
 * The audit API's tenant filter, written once in Rego: a caller sees the events of their tenant
 * (secrets excepted); a governor sees everything. Partial evaluation with `input.events` unknown
 * turns it into the WHERE clause (or Prisma condition) the audit store runs.
 */
const FILTER = `package audit.filters

include if {
  input.events.tenant_id == input.subject.tenant_id
  input.events.kind != "secret"
}

include if "governor" in input.subject.roles
`;
const EXTRA = `package audit.extra

# Outside what a SQL filter can say: a function call on the column.
include if lower(input.events.kind) == "login"
`;

const ADMIN = 'compile-admin-token-0123456789';
const member = { subject: { tenant_id: 'tenant-1', roles: ['developer'] } };
const governor = { subject: { tenant_id: 'tenant-1', roles: ['governor'] } };
const unknowns = ['input.events'];

describe('Compile API through OPA’s TypeScript SDK', () => {
  const files = tempPolicyDir({ 'filters.rego': FILTER, 'extra.rego': EXTRA });
  let sc: PolicySidecarApp;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
    server = createServer(sc.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await sc.close();
    files.remove();
  });

  it('compileQueryWithPartialEvaluation answers a PostgreSQL WHERE clause with the known parts filled in', async () => {
    const sdk = new OpaApiClient({ serverURL: url });
    const res = await sdk.compileQueryWithPartialEvaluation(
      { path: 'audit/filters/include', requestBody: { input: member, unknowns } },
      { acceptHeaderOverride: Accept.applicationVndOpaSqlPostgresqlPlusJson },
    );
    expect(res.httpMeta.response.headers.get('content-type')).toBe('application/vnd.opa.sql.postgresql+json');
    expect(res.compileResultSQL?.result?.query).toBe("WHERE events.tenant_id = E'tenant-1' AND events.kind <> E'secret'");
  });

  it('getFilters gives SQL per dialect (with table mappings) and no condition for a governor', async () => {
    const opa = new OPAClient(url);
    expect((await opa.getFilters('audit/filters/include', member, { target: 'mysql', unknowns })).query).toBe(
      "WHERE events.tenant_id = 'tenant-1' AND events.kind <> 'secret'",
    );
    const mapped = await opa.getFilters('audit/filters/include', member, { target: 'sqlite', unknowns, tableMappings: { events: { $self: 'audit_events', kind: 'event_kind' } } });
    expect(mapped.query).toBe("WHERE audit_events.tenant_id = 'tenant-1' AND audit_events.event_kind <> 'secret'");
    expect((await opa.getFilters('audit/filters/include', governor, { target: 'postgresql', unknowns })).query).toBe('');
  });

  it('getFilters with a Prisma primary table turns the UCAST answer into a Prisma where', async () => {
    const opa = new OPAClient(url);
    const f = await opa.getFilters('audit/filters/include', member, { ucastPrisma: { primary: 'events' }, unknowns });
    expect(f.query).toEqual({ AND: [{ tenant_id: { equals: 'tenant-1' } }, { kind: { not: 'secret' } }] });
  });

  it('answers OPA’s residual queries as JSON AST on POST /v1/compile', async () => {
    const res = await fetch(`${url}/v1/compile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'data.audit.filters.include == true', input: member, unknowns }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      result: {
        queries: [
          [
            { index: 0, terms: [{ type: 'ref', value: [{ type: 'var', value: 'eq' }] }, ref('events', 'tenant_id'), { type: 'string', value: 'tenant-1' }] },
            { index: 1, terms: [{ type: 'ref', value: [{ type: 'var', value: 'neq' }] }, ref('events', 'kind'), { type: 'string', value: 'secret' }] },
          ],
        ],
      },
    });
  });

  it('refuses what a SQL filter cannot express with EOPA’s pe_fragment_error, and unknown media types', async () => {
    const opa = new OpaApiClient({ serverURL: url });
    const err = await opa
      .compileQueryWithPartialEvaluation({ path: 'audit/extra/include', requestBody: { input: member, unknowns } }, { acceptHeaderOverride: Accept.applicationVndOpaSqlPostgresqlPlusJson })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'evaluation_error', errors: [{ code: 'pe_fragment_error', message: 'eq: nested call operand: lower(input.events.kind)' }] });
    const res = await fetch(`${url}/v1/compile/audit/filters/include`, { method: 'POST', headers: { accept: 'application/vnd.opa.sql.oracle+json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 'invalid_parameter', message: 'Accept header: unsupported header: application/vnd.opa.sql.oracle+json' });
  });
});

describe('Compile API authorization', () => {
  const files = tempPolicyDir({ 'filters.rego': FILTER });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, POLICY_AUTHENTICATION: 'token', POLICY_AUTHORIZATION: 'basic', POLICY_TOKEN: 'compile-client-token-0123456789', POLICY_ADMIN_TOKEN: ADMIN });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('goes through system.authz like every other route: no token 401, the admin token allowed', async () => {
    const server = createServer(sc.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/compile/audit/filters/include`;
    try {
      const headers = { accept: 'application/vnd.opa.ucast.all+json', 'content-type': 'application/json' };
      const body = JSON.stringify({ input: member, unknowns });
      expect((await fetch(base, { method: 'POST', headers, body })).status).toBe(401);
      const ok = await fetch(base, { method: 'POST', headers: { ...headers, authorization: `Bearer ${ADMIN}` }, body });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        result: {
          query: {
            type: 'compound',
            operator: 'and',
            value: [
              { type: 'field', operator: 'eq', field: 'events.tenant_id', value: 'tenant-1' },
              { type: 'field', operator: 'ne', field: 'events.kind', value: 'secret' },
            ],
          },
        },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

function ref(...path: string[]): unknown {
  return { type: 'ref', value: [{ type: 'var', value: 'input' }, ...path.map((p) => ({ type: 'string', value: p }))] };
}
