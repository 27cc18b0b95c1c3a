import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, startProcess, useTestDatabase, waitForReady, type ServiceProcess } from '@cloud-stack/test-kit';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// The audit API reached through the gateway, as the console calls it (same origin): the demo's
// `audit.api` route in front of a real audit-writer that consumes this gateway's audit queue.
const auditPort = await freePort();
const auditDb = useTestDatabase('gw_audit_api');
const stack = useGatewayStack({
  routes: (up) => {
    const demo = demoRoutes(up);
    return {
      products: [
        ...demo.products,
        // As in infra/gateway/demo-routes.yaml.
        {
          name: 'audit-api',
          upstream: `http://127.0.0.1:${auditPort}`,
          routes: [{ id: 'audit.api', path: '/v1/audit/*', methods: ['GET'], permission: '', stages: ['auth', 'audit'], timeout_ms: 120_000 }],
        },
      ],
    };
  },
});
let writer: ServiceProcess | undefined;

beforeAll(async () => {
  const env = stack.env();
  writer = startProcess('audit-writer', 'apps/audit-writer/src/main.ts', auditPort, {
    HOST: '127.0.0.1',
    DATABASE_URL: auditDb.url,
    REDIS_URL: env.REDIS_URL!,
    AUDIT_QUEUE_PREFIX: env.AUDIT_QUEUE_PREFIX!,
    IDENTITY_URL: env.IDENTITY_URL!,
    IDENTITY_REDIS_PREFIX: env.IDENTITY_REDIS_PREFIX!,
    AUDIT_INTROSPECTION_CLIENT_SECRET: 'audit-writer-dev-secret',
  });
  await waitForReady(writer, '/ready', 90_000);
  // The gateway probed the writer before it ran and marked it down; one probe now brings it back.
  await stack.gateway.health.probeAll();
}, 120_000);
afterAll(async () => {
  await writer?.stop();
});

const viaGateway = (path: string, token?: string) => fetch(`${stack.gatewayUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('the audit API through the gateway', () => {
  it('forwards the caller’s token, so the audit-writer authenticates and scopes the call itself', async () => {
    const anonymous = await viaGateway('/v1/audit/events?limit=1');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // A viewer gets past the gateway (no permission of its own) and is refused by the audit API.
    const viewer = await viaGateway('/v1/audit/events?limit=1', await stack.token('viewer@cloudstack.example'));
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { detail: string }).detail).toMatch(/owner or admin/);
  });

  it('finds a request by its correlation id, shows its chain, exports and verifies', async () => {
    const admin = await stack.token('admin@cloudstack.example');
    const correlationId = `console-${Date.now()}`;
    const answered = await fetch(`${stack.gatewayUrl}/api/v1/agents`, { headers: { authorization: `Bearer ${admin}`, 'x-correlation-id': correlationId } });
    expect(answered.status).toBe(200);

    const trace = await vi.waitFor(
      async () => {
        const res = await viaGateway(`/v1/audit/traces/${correlationId}`, admin);
        expect(res.status).toBe(200);
        return (await res.json()) as { correlation_id: string; events: Array<{ route_id: string; status: number }> };
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(trace.correlation_id).toBe(correlationId);
    expect(trace.events).toContainEqual(expect.objectContaining({ route_id: 'agents.list', status: 200 }));

    const page = await viaGateway(`/v1/audit/events?correlation_id=${correlationId}&limit=10`, admin);
    expect(((await page.json()) as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(1);

    const csv = await viaGateway(`/v1/audit/export?format=csv&correlation_id=${correlationId}`, admin);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(correlationId);

    const verify = await viaGateway('/v1/audit/verify', admin);
    expect(verify.status).toBe(200);
    expect(await verify.json()).toHaveProperty('ok');
  });
});
