import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// POLICY_MODE=embedded: the same policies evaluated in the gateway's process; no sidecar runs.
const stack = useGatewayStack({ routes: demoRoutes, policyMode: 'embedded' });

async function status(base: string, method: string, path: string, token: string): Promise<{ status: number; upstream?: string; reasons?: unknown }> {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { upstream?: string; reasons?: unknown };
  return { status: res.status, upstream: body.upstream, reasons: body.reasons };
}

describe('gateway with the policy embedded', () => {
  it('decides as the sidecar does: allow, deny with reasons, sandbox obligation', async () => {
    expect(await status(stack.gatewayUrl, 'GET', '/api/v1/agents', await stack.token('viewer@cloudstack.example'))).toMatchObject({ status: 200, upstream: 'primary' });
    expect(await status(stack.gatewayUrl, 'POST', '/api/v1/agents', await stack.token('viewer@cloudstack.example'))).toEqual({ status: 403 });
    expect(await status(stack.gatewayUrl, 'POST', '/api/v1/agents', await stack.token('admin@cloudstack.example'))).toMatchObject({
      status: 403,
      reasons: ['governor required: this route requires a governor'],
    });
    expect(await status(stack.gatewayUrl, 'POST', '/api/v1/agents', await stack.token('governor@cloudstack.example'))).toMatchObject({ status: 200 });
    expect(await status(stack.gatewayUrl, 'POST', '/api/agents/agent-trial-001/execute', await stack.token('customer@acme.example'))).toMatchObject({ status: 200, upstream: 'sandbox' });
  });

  it('stops a revoked token within a second at every replica', async () => {
    const replica = await stack.replica();
    const token = await stack.token('buyer@acme.example', true);
    expect((await status(stack.gatewayUrl, 'GET', '/api/v1/agents', token)).status).toBe(200);
    expect((await status(replica.url, 'GET', '/api/v1/agents', token)).status).toBe(200);
    // Both replicas now hold the token's introspection in their caches.
    const revoked = await fetch(`${stack.identity.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: 'console' }),
    });
    expect(revoked.status).toBe(200);
    const deadline = Date.now() + 1000;
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = [(await status(stack.gatewayUrl, 'GET', '/api/v1/agents', token)).status, (await status(replica.url, 'GET', '/api/v1/agents', token)).status];
      if (seen.every((s) => s === 401)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual([401, 401]);
  });

  it('sees a route change at every replica within a second', async () => {
    const replica = await stack.replica();
    const token = await stack.token('viewer@cloudstack.example');
    expect((await status(replica.url, 'GET', '/brand-new/x', token)).status).toBe(404);
    const draft = await stack.gateway.store.createDraft({ source: 'admin', createdBy: 'test' });
    await stack.gateway.store.upsertRoute(draft.version, { id: 'brand.new', path: '/brand-new/*', upstream: stack.primary.url, permission: 'agent:read' });
    await stack.gateway.store.activate(draft.version);
    const deadline = Date.now() + 1000;
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = [(await status(stack.gatewayUrl, 'GET', '/brand-new/x', token)).status, (await status(replica.url, 'GET', '/brand-new/x', token)).status];
      if (seen.every((s) => s === 200)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual([200, 200]);
  });
});

describe('the console API with the policy embedded', () => {
  it('lists the modules of the policy directory with their files, and evaluates in-process', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    const get = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.gatewayUrl}/__gateway/admin${path}`, { ...init, headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' } });
    const policy = (await (await get('/policy')).json()) as { mode: string; revision: string; modules: Array<{ id: string; path?: string; raw: string }> };
    expect(policy.mode).toBe('embedded');
    expect(policy.revision).toMatch(/^\d+$/);
    const authz = policy.modules.find((m) => m.id === 'gateway/authz.rego');
    expect(authz?.path).toMatch(/infra\/policies\/gateway\/authz\.rego$/);
    expect(authz?.raw).toContain('package gateway.authz');

    const subject = ((await (await get('/me')).json()) as { subject: unknown }).subject;
    const res = await get('/policy/evaluate', { method: 'POST', body: JSON.stringify({ route_id: 'agents.create', subject }) });
    const body = (await res.json()) as { result: { allow: boolean; reasons: string[] } };
    expect(body.result).toMatchObject({ allow: false, reasons: expect.arrayContaining(['governor required: this route requires a governor']) });
  });
});
