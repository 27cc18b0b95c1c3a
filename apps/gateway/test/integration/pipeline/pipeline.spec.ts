import { describe, expect, it } from 'vitest';
import { verifyGatewaySignature } from '@cloud-stack/gateway-pipeline';
import { demoRoutes, SIGNING_SECRET, useGatewayStack } from '../../support/stack';
import type { Echo } from '@cloud-stack/test-kit';
import { rawRequest } from '../../support/raw';

const stack = useGatewayStack({ routes: demoRoutes, budgets: { 'agent-prod-001': 25 } });

async function call(path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(`${stack.gatewayUrl}${path}`, { ...init, headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body, text };
}

describe('gateway pipeline: authenticated, authorized, proxied', () => {
  it('forwards an allowed request with the subject, correlation ids and trace context, signed', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await call('/api/v1/agents?limit=5', {
      token,
      headers: { 'x-correlation-id': 'corr-abc-1', 'x-causation-id': 'cause-9', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    const echo = res.body as unknown as Echo;
    expect(echo.upstream).toBe('primary');
    expect(echo.url).toBe('/v1/api/v1/agents?limit=5');
    expect(echo.headers['x-user-roles']).toBe('viewer');
    expect(echo.headers['x-tenant-id']).toBe('platform');
    expect(echo.headers['x-correlation-id']).toBe('corr-abc-1');
    expect(echo.headers['x-causation-id']).toBe('cause-9');
    expect(String(echo.headers.traceparent)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(String(echo.headers.traceparent)).not.toContain('00f067aa0ba902b7');
    expect(echo.headers.connection).toBe('keep-alive');
    expect(verifyGatewaySignature(echo.headers, 'GET', '/v1/api/v1/agents', SIGNING_SECRET)).toBe(true);
    expect(verifyGatewaySignature({ ...echo.headers, 'x-user-roles': 'owner' }, 'GET', '/v1/api/v1/agents', SIGNING_SECRET)).toBe(false);
    expect(res.headers.get('x-correlation-id')).toBe('corr-abc-1');
    expect(res.headers.get('x-causation-id')).toBe('cause-9');
    expect(res.headers.get('traceparent')).toBe(echo.headers.traceparent);
    // Hop-by-hop headers of the upstream's answer stay on its connection.
    expect(res.headers.get('x-upstream-secret-hop')).toBeNull();
  });

  it('never lets a client-supplied identity header reach the upstream', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const res = await call('/api/v1/agents', {
      token,
      headers: { 'x-user-id': 'root', 'X-Tenant-Id': 'acme', 'x-user-roles': 'owner', 'x-is-governor': 'true', 'x-forwarded-for': '10.0.0.1', 'x-gateway-signature': 'forged' },
    });
    const echo = res.body as unknown as Echo;
    expect(echo.headers['x-user-id']).not.toBe('root');
    expect(echo.headers['x-tenant-id']).toBe('platform');
    expect(echo.headers['x-user-roles']).toBe('viewer');
    expect(echo.headers['x-is-governor']).toBe('false');
    expect(echo.headers['x-forwarded-for']).not.toContain('10.0.0.1');
    expect(echo.headers['x-gateway-signature']).not.toBe('forged');
    // Anonymous requests on a public route get no identity headers at all.
    const anon = await call('/public/readme', { headers: { 'x-user-id': 'root', 'x-tenant-id': 'acme' } });
    expect(anon.status).toBe(200);
    expect((anon.body as unknown as Echo).headers['x-user-id']).toBeUndefined();
    expect((anon.body as unknown as Echo).headers['x-tenant-id']).toBeUndefined();
  });

  it('answers 401 without a token, with a malformed one and with an unknown one', async () => {
    const none = await call('/api/v1/agents');
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body.correlation_id).toBe(none.headers.get('x-correlation-id'));
    expect((await call('/api/v1/agents', { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).status).toBe(401);
    // A refresh token is active at introspection, but it is no access token.
    const login = await fetch(`${stack.identity.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: 'viewer@cloudstack.example', password: 'demo-viewer-pass' }),
    });
    const { refresh_token: refresh } = (await login.json()) as { refresh_token: string };
    expect((await call('/api/v1/agents', { token: refresh })).status).toBe(401);
    const forged = await call('/api/v1/agents', { token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it("hides a denial's reasons from a viewer and shows them to an admin", async () => {
    const viewer = await call('/api/v1/agents', { method: 'POST', token: await stack.token('viewer@cloudstack.example') });
    expect(viewer.status).toBe(403);
    expect(viewer.body.reasons).toBeUndefined();
    expect(viewer.text).not.toMatch(/permission|governor|role|rbac|gateway\.authz/i);
    const admin = await call('/api/v1/agents', { method: 'POST', token: await stack.token('admin@cloudstack.example') });
    expect(admin.status).toBe(403);
    expect(admin.body.reasons).toEqual(['governor required: this route requires a governor']);
  });

  it('lets a governor create agents (the route requires one)', async () => {
    const res = await call('/api/v1/agents', { method: 'POST', token: await stack.token('governor@cloudstack.example'), body: '{"name":"a"}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect((res.body as unknown as Echo).body_bytes).toBe(12);
  });

  it("sends a trial agent's executions to the sandbox and a paying one's to the primary upstream", async () => {
    const trial = await call('/api/agents/agent-trial-001/execute', { method: 'POST', token: await stack.token('customer@acme.example') });
    expect(trial.status).toBe(200);
    expect((trial.body as unknown as Echo).upstream).toBe('sandbox');
    expect((trial.body as unknown as Echo).url).toBe('/v1/api/agents/agent-trial-001/execute');
    const paying = await call('/api/agents/agent-prod-001/execute', { method: 'POST', token: await stack.token('buyer@acme.example') });
    expect(paying.status).toBe(200);
    expect((paying.body as unknown as Echo).upstream).toBe('primary');
  });

  it('charges the budget atomically and refuses past the cap, naming spend, cost and cap', async () => {
    const token = await stack.token('buyer@acme.example');
    // One execution above already spent 10 of the cap of 25.
    const second = await call('/api/agents/agent-prod-001/execute', { method: 'POST', token });
    expect(second.status).toBe(200);
    const third = await call('/api/agents/agent-prod-001/execute', { method: 'POST', token });
    expect(third.status).toBe(402);
    expect(third.body.detail).toBe('budget exceeded: monthly spend 20 + cost 10 > cap 25');
    expect(third.body).toMatchObject({ monthly_spend: 20, cost: 10, cap: 25 });
    await stack.gateway.budgets.flush();
    expect(await stack.gateway.budgets.state('agent-prod-001')).toEqual({ monthly_spend: 20, cap: 25 });
  });

  it('limits a route per subject with RateLimit headers, then 429 with Retry-After', async () => {
    const token = await stack.token('developer@cloudstack.example');
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await call('/api/limited', { token });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(last!.headers.get('ratelimit-limit')).toBe('3');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(last!.headers.get('ratelimit-policy')).toBe('3;w=60');
    // Another subject has its own allowance.
    expect((await call('/api/limited', { token: await stack.token('viewer@cloudstack.example') })).status).toBe(200);
  });

  it('routes by host, exact and wildcard', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    // fetch cannot set Host: send the requests as they are.
    const get = (host: string) => rawRequest(stack.gatewayUrl, `GET /anything HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    expect((JSON.parse((await get('platformforge.example')).body) as Echo).upstream).toBe('forge');
    expect((JSON.parse((await get('EU.platformforge.example:8080')).body) as Echo).upstream).toBe('forge');
    expect((await get('platformforge.example.evil')).status).toBe(404);
  });

  it('answers 404 and 405 as problem+json', async () => {
    const missing = await call('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, title: 'Not Found', correlation_id: missing.headers.get('x-correlation-id') });
    const wrongMethod = await call('/readonly/1', { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers a CORS preflight for an allowed origin and marks the response', async () => {
    const pre = await call('/public/x', { method: 'OPTIONS', headers: { origin: 'https://portal.example', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://portal.example');
    const other = await call('/public/x', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('records one audit event per request, denials as policy violations with their reasons', async () => {
    const token = await stack.token('admin@cloudstack.example');
    await call('/api/v1/agents', { token, headers: { 'x-correlation-id': 'audit-ok-1' } });
    await call('/api/v1/agents', { method: 'POST', token, headers: { 'x-correlation-id': 'audit-deny-1' } });
    await call('/api/v1/agents', { headers: { 'x-correlation-id': 'audit-anon-1' } });
    const events = await stack.auditEvents();
    const ok = events.filter((e) => e.correlation_id === 'audit-ok-1');
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ route_id: 'agents.list', status: 200, method: 'GET', path: '/api/v1/agents', tenant_id: 'platform', error_code: null, upstream: `${stack.primary.url}/v1/api/v1/agents` });
    expect(ok[0]!.decision).toMatchObject({ allow: true, policy: 'gateway.authz' });
    const denied = events.filter((e) => e.correlation_id === 'audit-deny-1');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ status: 403, error_code: 'policy_violation', upstream: null });
    expect(denied[0]!.decision).toMatchObject({ allow: false, reasons: ['governor required: this route requires a governor'] });
    const anon = events.filter((e) => e.correlation_id === 'audit-anon-1');
    expect(anon).toHaveLength(1);
    expect(anon[0]).toMatchObject({ status: 401, error_code: 'unauthenticated', user_id: null });
  });

  it('counts requests, decisions and refusals in /metrics', async () => {
    const token = await stack.token('analyst@cloudstack.example');
    for (let i = 0; i < 3; i++) await call('/api/v1/agents', { token });
    // The identity client adds its cache counts to the registry once a second.
    let text = '';
    for (let i = 0; i < 30 && !/identity_introspection_cache_total\{result="hit"\}/.test(text); i++) {
      text = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toMatch(/^gateway_requests_total\{route="agents.list",status="200"\} \d+$/m);
    expect(text).toMatch(/^gateway_policy_decisions_total\{cache="hit",result="allow"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gateway_rate_limited_total\{route="agents.limited"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gateway_request_duration_seconds_count\{route="agents.list"\} \d+$/m);
    expect(text).toMatch(/^identity_introspection_cache_total\{result="hit"\} [1-9]\d*$/m);
  });
});
