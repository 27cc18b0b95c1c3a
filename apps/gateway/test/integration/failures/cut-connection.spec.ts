import { describe, expect, it } from 'vitest';
import { adminDatabaseUrl, holdLock, terminateBackends } from '@cloud-stack/test-kit';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// Budgets are looked up on the request path (cap cache misses): a cut there must be a clean 503.
const stack = useGatewayStack({ routes: demoRoutes, budgets: { 'agent-prod-001': 1000 } });

const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

describe('gateway with its PostgreSQL connection cut mid-statement', () => {
  it('answers the request that lost its connection 503 with Retry-After, and the next one normally', async () => {
    const dbUrl = stack.env().DATABASE_URL!;
    const token = await stack.token('buyer@acme.example');
    // The cap is not cached yet: the first charged request reads agent_budgets, and waits on the lock.
    const lock = await holdLock(dbUrl, 'LOCK TABLE agent_budgets IN ACCESS EXCLUSIVE MODE');
    const pending = fetch(`${stack.gatewayUrl}/api/agents/agent-prod-001/execute`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const cut = await terminateBackends(adminDatabaseUrl(), { database: databaseOf(dbUrl), applicationName: 'gateway', waitingForLock: true, waitMs: 10_000 });
    await lock.release();
    expect(cut).toBe(1);
    const refused = await pending;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const again = await fetch(`${stack.gatewayUrl}/api/agents/agent-prod-001/execute`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
  });

  it('answers an admin activation cut inside its transaction 503, changes nothing, and the retry succeeds', async () => {
    const dbUrl = stack.env().DATABASE_URL!;
    const token = await stack.token('admin@cloudstack.example');
    const live = stack.gateway.table.version();
    const draft = await stack.gateway.store.createDraft({ source: 'admin', createdBy: 'test' });
    const lock = await holdLock(dbUrl, 'LOCK TABLE gateway_route_versions IN ACCESS EXCLUSIVE MODE');
    const activate = () => fetch(`${stack.gatewayUrl}/__gateway/admin/versions/${draft.version}/activate`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const pending = activate();
    await terminateBackends(adminDatabaseUrl(), { database: databaseOf(dbUrl), applicationName: 'gateway', waitingForLock: true, waitMs: 10_000 });
    await lock.release();
    const refused = await pending;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect((await stack.gateway.store.getActive())?.version).toBe(live);
    expect((await activate()).status).toBe(200);
    expect((await stack.gateway.store.getActive())?.version).toBe(draft.version);
  });
});
