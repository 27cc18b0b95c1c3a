import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// No policy-sidecar runs for this file: every decision the gateway asks for fails.
const stack = useGatewayStack({ routes: demoRoutes, noSidecar: true, gatewayEnv: { POLICY_TIMEOUT_MS: '200' } });

async function call(path: string, token?: string) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

describe('gateway with a dependency down', () => {
  it('answers 503 with Retry-After when the policy cannot be asked, never 200', async () => {
    const res = await call('/api/v1/agents', await stack.token('admin@cloudstack.example'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(stack.primary.seen).toHaveLength(0);
  });

  it('lets a fail-open route through, marked degraded, and audits it as such', async () => {
    const res = await fetch(`${stack.gatewayUrl}/api/degraded`, { headers: { authorization: `Bearer ${await stack.token('viewer@cloudstack.example')}`, 'x-correlation-id': 'degraded-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-policy-enforcement')).toBe('degraded');
    const events = (await stack.auditEvents()).filter((e) => e.correlation_id === 'degraded-1');
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toEqual({ policy_enforcement: 'degraded' });
  });

  it('still refuses an unauthenticated request on a fail-open route (authentication never fails open)', async () => {
    expect((await call('/api/degraded')).status).toBe(401);
  });

  it('answers 503 with Retry-After when identity is down', async () => {
    const token = await stack.token('operator@cloudstack.example');
    await stack.identity.stop();
    const down = await call('/api/degraded', token);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body.detail).toContain('identity');
  });

  it('reports what is down on /ready', async () => {
    const res = await fetch(`${stack.gatewayUrl}/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Array<{ name: string; ok: boolean }> };
    expect(body.checks.filter((c) => !c.ok).map((c) => c.name).sort()).toEqual(['identity', 'policy']);
  });
});
