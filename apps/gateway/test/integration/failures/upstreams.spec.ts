import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// Health probes only at start: what the test sees of an upstream comes from its own requests.
const stack = useGatewayStack({ routes: demoRoutes, budgets: { 'agent-prod-001': 1000 }, gatewayEnv: { HEALTH_PROBE_INTERVAL_MS: '600000' } });

async function call(path: string, token: string, init: RequestInit = {}) {
  const started = Date.now();
  const res = await fetch(`${stack.gatewayUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: Date.now() - started };
}

describe('gateway in front of failing upstreams', () => {
  it('answers 504 problem+json when the upstream is slower than the route allows', async () => {
    const res = await call('/api/slow?ms=2000', await stack.token('viewer@cloudstack.example'));
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.parse(res.text).detail).toContain('300 ms');
  });

  it('passes an upstream 500 through and gives the charge back', async () => {
    const token = await stack.token('buyer@acme.example');
    const ok = await call('/api/agents/agent-prod-001/execute', token, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect((await stack.gateway.budgets.state('agent-prod-001'))?.monthly_spend).toBe(10);
    const fail = await call('/api/agents/agent-prod-001/fail', token, { method: 'POST' });
    expect(fail.status).toBe(500);
    expect(JSON.parse(fail.text)).toEqual({ error: 'boom' });
    expect((await stack.gateway.budgets.state('agent-prod-001'))?.monthly_spend).toBe(10);
  });

  it('streams a large response through without buffering it whole', async () => {
    const bytes = 20 * 1024 * 1024;
    const res = await fetch(`${stack.gatewayUrl}/api/big?bytes=${bytes}`, { headers: { authorization: `Bearer ${await stack.token('viewer@cloudstack.example')}` } });
    expect(res.status).toBe(200);
    // The upstream's own Keep-Alive header (timeout=5) stays on its connection.
    expect(res.headers.get('keep-alive')).not.toBe('timeout=5');
    let received = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += chunk.length;
    expect(received).toBe(bytes);
  });

  it('streams a large chunked request body to the upstream intact', async () => {
    const part = new Uint8Array(256 * 1024).fill(7);
    let sent = 0;
    const res = await fetch(`${stack.gatewayUrl}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token('governor@cloudstack.example')}` },
      body: new ReadableStream({
        pull(c) {
          if (sent++ >= 16) return c.close();
          c.enqueue(part);
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { body_bytes: number }).body_bytes).toBe(16 * 256 * 1024);
  });

  it('answers 502 when the upstream refuses connections, then 503 at once while it is marked down', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    // A product whose upstream refuses every connection (nothing listens on port 1), added live.
    const draft = await stack.gateway.store.createDraft({ source: 'admin', createdBy: 'test' });
    await stack.gateway.store.upsertRoute(draft.version, { id: 'gone.all', path: '/gone/*', upstream: 'http://127.0.0.1:1', permission: 'agent:read' });
    await stack.gateway.store.activate(draft.version);
    await stack.gateway.table.reload();
    const first = await call('/gone/x', token);
    expect(first.status).toBe(502);
    expect(JSON.parse(first.text).detail).toBe('the upstream refused the connection');
    expect((await call('/gone/x', token)).status).toBe(502);
    // Two failures in a row: marked down, answered without trying.
    const fast = await call('/gone/x', token);
    expect(fast.status).toBe(503);
    expect(fast.headers.get('retry-after')).toBe('5');
    const states = (await (await fetch(`${stack.gatewayUrl}/__gateway/health/upstreams`)).json()) as { status: string; upstreams: Array<{ origin: string; state: string }> };
    expect(states.status).toBe('degraded');
    expect(states.upstreams.find((u) => u.origin === 'http://127.0.0.1:1')?.state).toBe('down');
    expect(states.upstreams.find((u) => u.origin === stack.primary.url)?.state).toBe('up');
  });

  it('sends a bodiless request again when the upstream closed the pooled connection under it', async () => {
    // An upstream that answers one request per connection and drops the connection on the next:
    // what a keep-alive connection closed by the upstream just as the gateway reuses it looks like.
    const perSocket = new WeakMap<object, number>();
    const flaky = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) return void req.socket.destroy();
      res.end(JSON.stringify({ n }));
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const port = (flaky.address() as { port: number }).port;
    try {
      const draft = await stack.gateway.store.createDraft({ source: 'admin', createdBy: 'test' });
      await stack.gateway.store.upsertRoute(draft.version, { id: 'flaky.all', path: '/flaky/*', upstream: `http://127.0.0.1:${port}`, permission: 'agent:read' });
      await stack.gateway.store.activate(draft.version);
      await stack.gateway.table.reload();
      const token = await stack.token('viewer@cloudstack.example');
      for (let i = 0; i < 3; i++) expect((await call('/flaky/x', token)).status).toBe(200);
      // A request with a body is not sent twice: it gets the 502.
      expect((await call('/flaky/x', token, { method: 'POST', body: 'once' })).status).toBe(502);
    } finally {
      flaky.closeAllConnections();
      flaky.close();
    }
  });
});
