import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPAClient } from '@open-policy-agent/opa';
import { useTestDatabase } from '@cloud-stack/test-kit';
import type { PolicySidecarApp } from '../src/app';
import { sidecar, tempPolicyDir } from './support/sidecar';

/**
 * The filter a policy compiles to selects exactly the rows the policy allows one by one: each
 * caller's WHERE clause (from the SDK's getFilters) runs on PostgreSQL, and its rows are compared
 * with the rows for which the Data API answers true.
 */
const POLICY = `package audit.filters

include if {
  input.events.tenant_id == input.subject.tenant_id
  input.events.kind != "secret"
}

include if "governor" in input.subject.roles

include if {
  "auditor" in input.subject.roles
  input.events.tenant_id in input.subject.audits
  startswith(input.events.kind, "login_")
}
`;

interface Row {
  readonly id: number;
  readonly tenant_id: string;
  readonly kind: string;
}
const ROWS: readonly Row[] = [
  { id: 1, tenant_id: 'tenant-1', kind: 'login_ok' },
  { id: 2, tenant_id: 'tenant-1', kind: 'secret' },
  { id: 3, tenant_id: 'tenant-2', kind: 'login_ok' },
  { id: 4, tenant_id: 'tenant-2', kind: 'loginXok' },
  { id: 5, tenant_id: 'tenant-3', kind: "o'brien" },
  { id: 6, tenant_id: 'tenant-3', kind: 'login_failed' },
];

const CALLERS = {
  member: { tenant_id: 'tenant-1', roles: ['developer'] },
  governor: { tenant_id: 'tenant-1', roles: ['governor'] },
  auditor: { tenant_id: 'tenant-9', roles: ['auditor'], audits: ['tenant-2', 'tenant-3'] },
  stranger: { tenant_id: 'tenant-7', roles: [] },
};

describe('a compiled filter on PostgreSQL selects what the policy allows', () => {
  const db = useTestDatabase('compile-sql');
  const files = tempPolicyDir({ 'filters.rego': POLICY });
  let sc: PolicySidecarApp;
  let server: Server;
  let url: string;
  let client: pg.Client;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
    server = createServer(sc.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE events (id int PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL)');
    for (const r of ROWS) await client.query('INSERT INTO events VALUES ($1, $2, $3)', [r.id, r.tenant_id, r.kind]);
  });
  afterAll(async () => {
    await client?.end();
    await new Promise((r) => server.close(r));
    await sc.close();
    files.remove();
  });

  it.each(Object.entries(CALLERS))('for the %s', async (_name, subject) => {
    const filters = await new OPAClient(url).getFilters('audit/filters/include', { subject }, { target: 'postgresql', unknowns: ['input.events'] });
    const where = String(filters.query ?? '');
    const selected = (await client.query<{ id: number }>(`SELECT id FROM events ${where} ORDER BY id`)).rows.map((r) => r.id);
    const allowed: number[] = [];
    for (const row of ROWS) {
      const res = await fetch(`${url}/v1/data/audit/filters/include`, { method: 'POST', body: JSON.stringify({ input: { subject, events: row } }) });
      if (((await res.json()) as { result?: unknown }).result === true) allowed.push(row.id);
    }
    expect(selected).toEqual(allowed);
  });

  it('renders the auditor’s filter with IN and a LIKE whose _ is escaped', async () => {
    const filters = await new OPAClient(url).getFilters('audit/filters/include', { subject: CALLERS.auditor }, { target: 'postgresql', unknowns: ['input.events'] });
    expect(filters.query).toBe(
      "WHERE (events.tenant_id = E'tenant-9' AND events.kind <> E'secret') OR (events.tenant_id IN (E'tenant-2', E'tenant-3') AND events.kind LIKE E'login\\\\_%')",
    );
  });
});
