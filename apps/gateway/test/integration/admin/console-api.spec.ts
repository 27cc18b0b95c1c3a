import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// A built console stands in for apps/console/dist (built by its own project).
const consoleDir = mkdtempSync(join(tmpdir(), 'gw-console-'));
mkdirSync(join(consoleDir, 'assets'));
writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Cloud Stack console</title><script type="module" src="./assets/index-5a1c.js"></script>');
writeFileSync(join(consoleDir, 'assets', 'index-5a1c.js'), 'export {};');
afterAll(() => rmSync(consoleDir, { recursive: true, force: true }));

const stack = useGatewayStack({ routes: demoRoutes, gatewayEnv: { CONSOLE_DIR: consoleDir, IDENTITY_PUBLIC_URL: 'http://localhost:3333' } });
const ADMIN = '/__gateway/admin';

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${stack.gatewayUrl}${ADMIN}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers are checked field by field below
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json().catch(() => ({}))) as any };
}

/** Reads a server-sent event stream as the console does (fetch, since it needs the Authorization header). */
function openStream(path: string, token: string) {
  const controller = new AbortController();
  const events: Array<{ event: string; data: string }> = [];
  let comments = 0;
  const ready = fetch(`${stack.gatewayUrl}${ADMIN}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }).then(async (res) => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (block.startsWith(':')) comments++;
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data !== undefined) events.push({ event, data });
          }
        }
      } catch {
        // aborted by the test
      }
    })();
    return res;
  });
  return { ready, events, comments: () => comments, close: () => controller.abort() };
}

describe('the console API: who am I', () => {
  it('answers the subject and both permissions as the policy decides them', async () => {
    const admin = await call('GET', '/me', await stack.token('admin@cloudstack.example'));
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ subject: { sub: expect.any(String), tenant_id: 'platform', roles: expect.arrayContaining(['admin']), is_governor: false }, permissions: { read: true, admin: true } });
    const viewer = await call('GET', '/me', await stack.token('viewer@cloudstack.example'));
    expect(viewer.body.permissions).toEqual({ read: true, admin: false });
    const customer = await call('GET', '/me', await stack.token('customer@acme.example'));
    expect(customer.status).toBe(200);
    expect(customer.body.permissions).toEqual({ read: false, admin: false });
  });

  it('lets a viewer read everything the console shows and change nothing', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    for (const path of ['/routes', '/versions', '/traffic', '/policy']) expect((await call('GET', path, viewer)).status, path).toBe(200);
    const refused = await call('POST', '/versions', viewer, {});
    expect(refused.status).toBe(403);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect((await call('POST', '/rollback', viewer)).status).toBe(403);
  });
});

describe('the console API: traffic', () => {
  it('shows requests by route and status, latency and decisions from the gateway’s own counters', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    for (let i = 0; i < 3; i++) expect((await fetch(`${stack.gatewayUrl}/api/v1/agents`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200);
    expect((await fetch(`${stack.gatewayUrl}/api/v1/agents`, { method: 'POST', headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);
    // A point is taken every 5 s; wait for the one holding these requests.
    const totals = await vi.waitFor(
      async () => {
        const res = await call('GET', '/traffic?minutes=5', viewer);
        expect(res.status).toBe(200);
        expect(res.body.step_seconds).toBe(5);
        const sum = (route: string, status: string) => res.body.points.reduce((n: number, p: { requests: Record<string, Record<string, number>> }) => n + (p.requests[route]?.[status] ?? 0), 0);
        expect(sum('agents.list', '200')).toBe(3);
        expect(sum('agents.create', '403')).toBe(1);
        return res.body.points as Array<{ at: string; latency_ms: { p50: number | null; p99: number | null }; decisions: { allow: number; deny: number } }>;
      },
      { timeout: 30_000, interval: 500 },
    );
    expect(totals.some((p) => p.latency_ms.p50 !== null && p.latency_ms.p99! >= p.latency_ms.p50)).toBe(true);
    expect(totals.reduce((n, p) => n + p.decisions.deny, 0)).toBeGreaterThanOrEqual(1);
    expect(totals.map((p) => p.at)).toEqual([...totals.map((p) => p.at)].sort());
  });
});

describe('the console API: policy', () => {
  it('lists the sidecar’s modules and revision', async () => {
    const res = await call('GET', '/policy', await stack.token('viewer@cloudstack.example'));
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('sidecar');
    expect(res.body.revision).toMatch(/^\d+$/);
    const authz = res.body.modules.find((m: { id: string }) => m.id.endsWith('gateway/authz.rego'));
    expect(authz.raw).toContain('package gateway.authz');
  });

  it('shows a non-governor the governor-only denial with its reason, as the gateway would decide it', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    const admin = (await call('GET', '/me', await stack.token('admin@cloudstack.example'))).body.subject;
    const denied = await call('POST', '/policy/evaluate', viewer, { route_id: 'agents.create', subject: admin });
    expect(denied.status).toBe(200);
    expect(denied.body.input).toMatchObject({ request: { method: 'POST', path: '/api/v1/agents' }, route: { id: 'agents.create', requires_governor: true, permission: 'agent:create' }, subject: admin, budget: null });
    expect(denied.body.result.allow).toBe(false);
    expect(denied.body.result.reasons).toContain('governor required: this route requires a governor');

    const governor = (await call('GET', '/me', await stack.token('governor@cloudstack.example'))).body.subject;
    const allowed = await call('POST', '/policy/evaluate', viewer, { route_id: 'agents.create', subject: governor });
    expect(allowed.body.result).toMatchObject({ allow: true, reasons: expect.arrayContaining(['governor requirement met']) });

    // The request the gateway really answers agrees.
    const real = await fetch(`${stack.gatewayUrl}/api/v1/agents`, { method: 'POST', headers: { authorization: `Bearer ${await stack.token('admin@cloudstack.example')}` } });
    expect(real.status).toBe(403);
    expect(((await real.json()) as { reasons: string[] }).reasons).toContain('governor required: this route requires a governor');
  });

  it('fills route params from the path, and decides a whole input as given', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    const subject = (await call('GET', '/me', viewer)).body.subject;
    const res = await call('POST', '/policy/evaluate', viewer, { route_id: 'agents.execute', subject, path: '/api/agents/a-7/execute' });
    expect(res.body.input.route).toMatchObject({ id: 'agents.execute', params: { id: 'a-7' }, cost: 10 });
    expect(res.body.result.reasons).toEqual(['permission agent:execute is not granted to roles [viewer]']);
    const asGiven = await call('POST', '/policy/evaluate', viewer, { input: { ...res.body.input, subject: { ...subject, roles: ['developer'] } } });
    expect(asGiven.body.result.allow).toBe(true);
  });

  it('answers 404 for an unknown route and 400 with field errors for a bad request', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    const subject = (await call('GET', '/me', viewer)).body.subject;
    const unknown = await call('POST', '/policy/evaluate', viewer, { route_id: 'no.such.route', subject });
    expect(unknown.status).toBe(404);
    expect(unknown.type).toMatch(/^application\/problem\+json/);
    const bad = await call('POST', '/policy/evaluate', viewer, { route_id: 'agents.list', subject: { ...subject, roles: ['wizard'], is_governor: 'yes' }, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['colour', 'subject.roles.0', 'subject.is_governor']));
    const off = await call('POST', '/policy/evaluate', viewer, { route_id: 'agents.list', subject, path: '/elsewhere' });
    expect(off.status).toBe(400);
    expect(off.body.errors).toEqual([{ path: 'path', message: expect.stringContaining('does not reach route agents.list') }]);
    const badInput = await call('POST', '/policy/evaluate', viewer, { input: { request: {} } });
    expect(badInput.status).toBe(400);
    expect(badInput.body.errors.some((e: { path: string }) => e.path.startsWith('input.'))).toBe(true);
  });
});

describe('the console API: live upstream health', () => {
  // Last in the file: it stops an upstream.
  it('streams the upstream report on connect and again when an upstream goes down', async () => {
    const stream = openStream('/health/stream', await stack.token('viewer@cloudstack.example'));
    const res = await stream.ready;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const forge = new URL(stack.forge.url).origin;
    const stateOf = (data: string) => (JSON.parse(data) as { upstreams: Array<{ origin: string; state: string }> }).upstreams.find((u) => u.origin === forge)?.state;
    try {
      await vi.waitFor(() => expect(stream.events.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
      const first = stream.events[0]!;
      expect(first.event).toBe('upstreams');
      // The same document as GET /__gateway/health/upstreams.
      const plain = (await (await fetch(`${stack.gatewayUrl}/__gateway/health/upstreams`)).json()) as { upstreams: unknown[] };
      expect(Object.keys(JSON.parse(first.data))).toEqual(Object.keys(plain));
      expect(stateOf(first.data)).toBe('up');

      await stack.forge.close();
      await vi.waitFor(() => expect(stream.events.some((e) => stateOf(e.data) === 'down')).toBe(true), { timeout: 20_000, interval: 100 });
      const down = JSON.parse(stream.events.find((e) => stateOf(e.data) === 'down')!.data) as { status: string };
      expect(down.status).toBe('degraded');
    } finally {
      stream.close();
    }
  });

  it('needs route:read', async () => {
    const res = await fetch(`${stack.gatewayUrl}${ADMIN}/health/stream`, { headers: { authorization: `Bearer ${await stack.token('customer@acme.example')}` } });
    expect(res.status).toBe(403);
  });
});

describe('the console itself', () => {
  it('is served before the pipeline without a token: the page, its assets, deep links and its settings', async () => {
    const page = await fetch(`${stack.gatewayUrl}/__gateway/console/callback?code=c&state=s`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Cloud Stack console</title>');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' http://localhost:3333;");
    const asset = await fetch(`${stack.gatewayUrl}/__gateway/console/assets/index-5a1c.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const settings = await fetch(`${stack.gatewayUrl}/__gateway/console/config.json`);
    expect(await settings.json()).toEqual({ identity_url: 'http://localhost:3333', client_id: 'operator-console', audit_base: '/v1/audit' });
    // The gateway's audit stage never saw these: no pipeline ran.
    expect(page.headers.get('x-correlation-id')).toBeNull();
  });
});
