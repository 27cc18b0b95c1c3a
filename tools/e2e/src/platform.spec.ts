import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '@cloud-stack/contracts';
import { verifyGatewaySignature } from '@cloud-stack/gateway-pipeline';
import type { Echo, ReceivedSpan } from '@cloud-stack/test-kit';
import { call, claimsOf, correlationId, login, seenWith } from './client';
import { E2E_ROUTES } from './routes';
import { SIGNING_SECRET, TRIAL_AGENT, TRIAL_CAP, useE2eStack, type PolicyMode } from './stack';

// The platform's own scenarios, end to end: every service its own process, real PostgreSQL and
// Redis, each scenario checked on the client's answer, on what the upstream received and on the
// audit trail the audit-writer stored.
const stack = useE2eStack();

const TRIAL = 'customer@acme.example';
const ADMIN = 'admin@cloudstack.example';
const GOVERNOR_ADMIN = { email: 'governing-admin@cloudstack.example', password: 'e2e-governing-admin-pass' };
const OTHER_TENANT = { id: 'globex', admin: 'admin@globex.example', user: 'dev@globex.example', password: 'e2e-globex-pass' };

async function createUser(tenant: string, user: Record<string, unknown>): Promise<void> {
  const res = await stack.identity.admin('POST', `/v1/tenants/${tenant}/users`, user);
  if (res.status !== 201) throw new Error(`creating ${String(user.email)}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  // What the demo seed lacks: an admin who is also a governor, and a third tenant.
  await createUser('platform', { email: GOVERNOR_ADMIN.email, password: GOVERNOR_ADMIN.password, roles: ['admin'], is_governor: true });
  const tenant = await stack.identity.admin('POST', '/v1/tenants', { id: OTHER_TENANT.id, name: 'Globex (e2e)', allowed_email_domains: ['globex.example'] });
  if (tenant.status !== 201) throw new Error(`creating tenant ${OTHER_TENANT.id}: ${tenant.status} ${await tenant.text()}`);
  await createUser(OTHER_TENANT.id, { email: OTHER_TENANT.admin, password: OTHER_TENANT.password, roles: ['admin'] });
  await createUser(OTHER_TENANT.id, { email: OTHER_TENANT.user, password: OTHER_TENANT.password, roles: ['developer'] });
});

const only = (echoes: Echo[]): Echo => {
  expect(echoes).toHaveLength(1);
  return echoes[0]!;
};
/** OTLP's SpanKind for a span that answers a request. */
const SERVER = 2;
const signed = (echo: Echo): boolean => verifyGatewaySignature(echo.headers, echo.method, new URL(echo.url, 'http://upstream').pathname, SIGNING_SECRET);

// Scenario 8: scenarios 1-3 give the same answers whether the gateway asks the sidecar or decides in-process.
describe.each<PolicyMode>(['sidecar', 'embedded'])('through the gateway with POLICY_MODE=%s', (mode) => {
  const gateway = () => stack.gateways[mode].url;

  it("1. a trial customer's agent execution goes to the sandbox, charged to its budget, audited as sandbox_routed", async () => {
    const token = await stack.token(TRIAL);
    const before = await stack.spend(TRIAL_AGENT);
    const id = correlationId(`trial-${mode}`);

    const res = await call(gateway(), 'POST', `/api/agents/${TRIAL_AGENT}/execute`, { token, correlationId: id, body: { task: 'summarise the report' } });

    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe(id);
    expect(res.body).toMatchObject({ upstream: 'sandbox', method: 'POST', url: `/api/agents/${TRIAL_AGENT}/execute` });
    expect(seenWith(stack.upstreams.agents, id)).toEqual([]);
    const echo = only(seenWith(stack.upstreams.sandbox, id));
    expect(echo.headers).toMatchObject({
      'x-user-id': claimsOf(token).sub,
      'x-tenant-id': 'acme',
      'x-agent-id': TRIAL_AGENT,
      'x-trial-mode': 'true',
      'x-is-governor': 'false',
      'x-user-roles': 'customer',
      'x-correlation-id': id,
    });
    expect(signed(echo)).toBe(true);
    expect(await stack.spend(TRIAL_AGENT)).toBe(before + 10);

    const [row] = await stack.audited([id]);
    expect(row).toMatchObject({
      route_id: 'agents.execute',
      status: 200,
      sandbox_routed: true,
      trial_mode: true,
      tenant_id: 'acme',
      user_id: claimsOf(token).sub,
      agent_id: TRIAL_AGENT,
      upstream: `${stack.upstreams.sandbox.url}/api/agents/${TRIAL_AGENT}/execute`,
      error_code: null,
    });
    expect(row!.decision).toMatchObject({ allow: true, policy: 'gateway.authz' });
    expect(row!.decision!.reasons).toEqual(
      expect.arrayContaining(['trial mode: routed to the sandbox', `within budget: monthly spend ${before} + cost 10 <= cap ${TRIAL_CAP}`]),
    );
  });

  it('2. an admin who is a governor creates an agent on the governor-only route; an admin who is not is refused 403 and audited as a violation', async () => {
    const governor = await login(stack.identity.url, GOVERNOR_ADMIN.email, GOVERNOR_ADMIN.password);
    const allowedId = correlationId(`governor-${mode}`);
    const allowed = await call(gateway(), 'POST', '/api/v1/agents', { token: governor, correlationId: allowedId, body: { name: 'triage-bot' } });
    expect(allowed.status).toBe(200);
    expect(only(seenWith(stack.upstreams.agents, allowedId)).headers).toMatchObject({ 'x-is-governor': 'true', 'x-user-id': claimsOf(governor).sub, 'x-tenant-id': 'platform' });

    const admin = await stack.token(ADMIN);
    const refusedId = correlationId(`non-governor-${mode}`);
    const refused = await call(gateway(), 'POST', '/api/v1/agents', { token: admin, correlationId: refusedId, body: { name: 'triage-bot' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(refused.headers.get('x-correlation-id')).toBe(refusedId);
    // An admin may read why (POLICY_REASONS_ROLES).
    expect(refused.body).toMatchObject({ status: 403, reasons: ['governor required: this route requires a governor'] });
    expect(seenWith(stack.upstreams.agents, refusedId)).toEqual([]);

    const rows = await stack.audited([allowedId, refusedId]);
    expect(rows.find((r) => r.correlation_id === allowedId)).toMatchObject({ status: 200, error_code: null, decision: { allow: true } });
    expect(rows.find((r) => r.correlation_id === refusedId)).toMatchObject({
      route_id: 'agents.create',
      status: 403,
      error_code: 'policy_violation',
      upstream: null,
      user_id: claimsOf(admin).sub,
      decision: { allow: false, reasons: ['governor required: this route requires a governor'] },
    });
  });

  it('3. a viewer is denied agent:create, an operator is allowed', async () => {
    const viewerId = correlationId(`viewer-${mode}`);
    const viewer = await call(gateway(), 'POST', '/api/v1/agent-drafts', { token: await stack.token('viewer@cloudstack.example'), correlationId: viewerId, body: { name: 'draft' } });
    expect(viewer.status).toBe(403);
    expect(viewer.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    // A viewer is not told the policy's reasons.
    expect(viewer.body).not.toHaveProperty('reasons');
    expect(seenWith(stack.upstreams.agents, viewerId)).toEqual([]);

    const operatorId = correlationId(`operator-${mode}`);
    const operator = await call(gateway(), 'POST', '/api/v1/agent-drafts', { token: await stack.token('operator@cloudstack.example'), correlationId: operatorId, body: { name: 'draft' } });
    expect(operator.status).toBe(200);
    expect(only(seenWith(stack.upstreams.agents, operatorId)).headers['x-user-roles']).toContain('operator');

    const rows = await stack.audited([viewerId, operatorId]);
    expect(rows.find((r) => r.correlation_id === viewerId)).toMatchObject({
      route_id: E2E_ROUTES.drafts,
      status: 403,
      error_code: 'policy_violation',
      decision: { allow: false, reasons: ['permission agent:create is not granted to roles [viewer]'] },
    });
    expect(rows.find((r) => r.correlation_id === operatorId)).toMatchObject({ route_id: E2E_ROUTES.drafts, status: 200, decision: { allow: true } });
    expect(rows.find((r) => r.correlation_id === operatorId)!.decision!.reasons).toContain('role operator grants agent:create');
  });
});

describe('tokens and tenants', () => {
  it('5. a revoked token is refused on the next request', async () => {
    const token = await login(stack.identity.url, 'developer@cloudstack.example', 'demo-developer-pass');
    const gateway = stack.gateways.sidecar.url;
    expect((await call(gateway, 'GET', '/api/v1/agents', { token })).status).toBe(200);

    await stack.identity.revoke(token);

    const id = correlationId('revoked');
    const refused = await call(gateway, 'GET', '/api/v1/agents', { token, correlationId: id });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(seenWith(stack.upstreams.agents, id)).toEqual([]);
    expect((await stack.audited([id]))[0]).toMatchObject({ route_id: 'agents.list', status: 401, upstream: null });
  });

  it('6. 50 concurrent requests from three tenants are each audited exactly once, and each tenant sees only its own', async () => {
    const callers = [
      { tenant: 'acme', token: await stack.token('admin@acme.example') },
      { tenant: 'acme', token: await stack.token('buyer@acme.example') },
      { tenant: 'platform', token: await stack.token('analyst@cloudstack.example') },
      { tenant: 'platform', token: await stack.token('operator@cloudstack.example') },
      { tenant: OTHER_TENANT.id, token: await login(stack.identity.url, OTHER_TENANT.admin, OTHER_TENANT.password) },
      { tenant: OTHER_TENANT.id, token: await login(stack.identity.url, OTHER_TENANT.user, OTHER_TENANT.password) },
    ];
    const batch = randomBytes(4).toString('hex');
    const requests = Array.from({ length: 50 }, (_, i) => ({ ...callers[i % callers.length]!, id: `e2e-burst-${batch}-${i}` }));

    const answers = await Promise.all(requests.map((r) => call(stack.gateways.sidecar.url, 'GET', '/api/portal/account', { token: r.token, correlationId: r.id })));
    expect(answers.filter((a) => a.status !== 200).map((a) => a.body)).toEqual([]);
    for (const r of requests) expect(only(seenWith(stack.upstreams.product, r.id)).headers['x-tenant-id']).toBe(r.tenant);

    const rows = await stack.audited(requests.map((r) => r.id));
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((r) => r.correlation_id)).size).toBe(50);
    const tenantOf = new Map(requests.map((r) => [r.id, r.tenant]));
    for (const row of rows) expect(row).toMatchObject({ route_id: 'portal.account', status: 200, tenant_id: tenantOf.get(row.correlation_id) });

    // The audit API: each tenant's admin reads its own tenant's events and nothing else.
    const ours = (tenant: string) => requests.filter((r) => r.tenant === tenant).map((r) => r.id).sort();
    const readAs = async (token: string, query = '') => {
      const res = await stack.auditApi(token, `/v1/audit/events?route=portal.account&category=request&limit=200${query}`);
      expect(res.status).toBe(200);
      const { items } = (await res.json()) as { items: Array<{ correlation_id: string; tenant_id: string }> };
      return items.filter((e) => e.correlation_id.startsWith(`e2e-burst-${batch}-`));
    };
    const acme = await readAs(callers[0]!.token);
    expect(acme.map((e) => e.correlation_id).sort()).toEqual(ours('acme'));
    expect(new Set(acme.map((e) => e.tenant_id))).toEqual(new Set(['acme']));
    const globex = await readAs(callers[4]!.token);
    expect(globex.map((e) => e.correlation_id).sort()).toEqual(ours(OTHER_TENANT.id));
    // Asking for another tenant's events is refused, not answered with an empty page.
    expect((await stack.auditApi(callers[0]!.token, `/v1/audit/events?tenant_id=${OTHER_TENANT.id}`)).status).toBe(403);
    // The platform's auditors see all three.
    const all = await readAs(await stack.token('owner@cloudstack.example'));
    expect(all).toHaveLength(50);
  });
});

describe('one trace across the services', () => {
  it("7. the gateway's, identity's, the sidecar's and the audit-writer's spans share the request's trace id", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const id = correlationId('trace');
    // A fresh token on a route its user has not called: neither the introspection nor the decision comes from a cache.
    const token = await login(stack.identity.url, 'analyst@cloudstack.example', 'demo-analyst-pass');
    const res = await call(stack.gateways.sidecar.url, 'GET', '/api/v1/agents', { token, correlationId: id, headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(only(seenWith(stack.upstreams.agents, id)).headers.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
    expect((await stack.audited([id]))[0]!.trace_id).toBe(traceId);

    // Identity answered the introspection, the sidecar the decision, the audit-writer stored the
    // event: each in a span whose parent is one of the gateway's spans of this request.
    const downstream = ['identity', 'policy-sidecar', 'audit-writer'];
    const childrenOfGateway = (all: ReceivedSpan[]) => {
      const trace = all.filter((s) => s.traceId === traceId);
      const gateway = new Set(trace.filter((s) => s.serviceName === 'gateway').map((s) => s.spanId));
      return new Set(trace.filter((s) => s.serviceName !== 'gateway' && s.parentSpanId !== undefined && gateway.has(s.parentSpanId)).map((s) => s.serviceName));
    };
    // Spans arrive in batches from four processes; the assertions below say what is missing.
    await stack.otlp.waitFor((all) => downstream.every((name) => childrenOfGateway(all).has(name)), 30_000).catch(() => undefined);
    const spans = stack.otlp.spans();
    expect(spans.some((s) => s.traceId === traceId && s.serviceName === 'gateway' && s.kind === SERVER && s.parentSpanId === callerSpan), "the gateway's server span continues the caller's").toBe(true);
    expect([...childrenOfGateway(spans)].sort()).toEqual([...downstream].sort());
  });
});

// Last: the sidecar does not come back.
describe('the policy-sidecar down', () => {
  it('4. a fail-closed route answers 503 with Retry-After; a fail-open route passes marked X-Policy-Enforcement: degraded', async () => {
    const token = await stack.token('developer@cloudstack.example');
    await stack.sidecar.stop();

    const closedId = correlationId('policy-down');
    const closed = await call(stack.gateways.sidecar.url, 'GET', '/api/v1/agents', { token, correlationId: closedId });
    expect(closed.status).toBe(503);
    expect(closed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(closed.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(seenWith(stack.upstreams.agents, closedId)).toEqual([]);

    const openId = correlationId('policy-down-open');
    const open = await call(stack.gateways.sidecar.url, 'GET', '/api/v1/status', { token, correlationId: openId });
    expect(open.status).toBe(200);
    expect(open.headers.get('x-policy-enforcement')).toBe('degraded');
    only(seenWith(stack.upstreams.agents, openId));

    const rows = await stack.audited([closedId, openId]);
    expect(rows.find((r) => r.correlation_id === closedId)).toMatchObject({ route_id: 'agents.list', status: 503, upstream: null });
    expect(rows.find((r) => r.correlation_id === openId)).toMatchObject({ route_id: E2E_ROUTES.failOpen, status: 200, details: { policy_enforcement: 'degraded' } });
  });
});
