import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { freePort, startProcess, useTestDatabase, waitForReady } from '@cloud-stack/test-kit';
import { demoRoutes, useGatewayStack } from '../../support/stack';

const stack = useGatewayStack({ routes: demoRoutes });
// A database no route file was ever applied to.
const emptyDb = useTestDatabase('gw_no_routes');

/** The primary's live cluster workers, from /proc (tsx's esbuild service is a child too, so by command line). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which is in parentheses): state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('apps/gateway/src/main.ts')) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out.sort();
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('the gateway as it runs in production: cluster workers, SIGTERM', () => {
  it('runs WEB_CONCURRENCY workers, replaces one that dies, drains and flushes audit on SIGTERM', async () => {
    const port = await freePort();
    const gateway = startProcess('gateway', 'apps/gateway/src/main.ts', port, { ...stack.env(), WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' });
    const listening = () => gateway.output().split('\n').filter((l) => l.includes('gateway worker listening')).length;
    try {
      await waitForReady(gateway);
      const primary = gateway.child.pid!;
      expect(await until(() => childrenOf(primary).length === 2 && listening() === 2, 30_000), gateway.output().slice(-3000)).toBe(true);
      const token = await stack.token('viewer@cloudstack.example');
      // Pooled connections to a worker that was just killed are reset (the pool may hold more than
      // one); a new connection reaches a live worker. Each try is bounded: in one CI run a request
      // here was never answered and the test waited until its own timeout (likely a connection the
      // primary was handing to the worker as it died); the retry takes another connection.
      const ok = async (): Promise<number> => {
        for (let attempt = 1; ; attempt++) {
          try {
            return (await fetch(`${gateway.url}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) })).status;
          } catch (err) {
            if (attempt >= 4) throw err;
          }
        }
      };
      for (let i = 0; i < 10; i++) expect(await ok()).toBe(200);

      // A worker killed outright is replaced; the port keeps answering meanwhile.
      const [victim] = childrenOf(primary);
      process.kill(victim!, 'SIGKILL');
      expect(await ok()).toBe(200);
      expect(await until(() => childrenOf(primary).length === 2 && !childrenOf(primary).includes(victim!) && listening() === 3, 30_000)).toBe(true);
      for (let i = 0; i < 10; i++) expect(await ok()).toBe(200);

      // Every request is in the audit queue once SIGTERM has been handled, and the exit is clean.
      const marker = `sigterm-${Date.now()}`;
      const last = await fetch(`${gateway.url}/api/v1/agents`, { headers: { authorization: `Bearer ${token}`, 'x-correlation-id': marker } });
      expect(last.status).toBe(200);
      await gateway.stop(15_000);
      expect(gateway.child.exitCode, `${gateway.child.signalCode}\n${gateway.output().slice(-3000)}`).toBe(0);
      expect((await stack.auditEvents()).filter((e) => e.correlation_id === marker)).toHaveLength(1);
    } finally {
      await gateway.stop();
    }
  });
});

/** One GET on a connection of its own: the primary hands each new connection to the next worker. */
function getOnNewConnection(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('the console traffic figures under cluster workers', () => {
  it('are the whole gateway’s, whichever worker answers', async () => {
    const port = await freePort();
    // A prefix of its own, so only this process's traffic is counted.
    const env = { ...stack.env(), WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', GATEWAY_REDIS_PREFIX: `${stack.redisPrefix}cluster-traffic:` };
    const gateway = startProcess('gateway', 'apps/gateway/src/main.ts', port, env);
    try {
      await waitForReady(gateway);
      const listening = () => gateway.output().split('\n').filter((l) => l.includes('gateway worker listening')).length;
      expect(await until(() => childrenOf(gateway.child.pid!).length === 2 && listening() === 2, 30_000)).toBe(true);
      const token = await stack.token('viewer@cloudstack.example');
      const requests = 12;
      for (let i = 0; i < requests; i++) expect((await getOnNewConnection(`${gateway.url}/api/v1/agents`, token)).status).toBe(200);
      const counted = async () => {
        const res = await getOnNewConnection(`${gateway.url}/__gateway/admin/traffic?minutes=5`, token);
        expect(res.status).toBe(200);
        const points = (JSON.parse(res.body) as { points: Array<{ requests: Record<string, Record<string, number>> }> }).points;
        return points.reduce((n, p) => n + (p.requests['agents.list']?.['200'] ?? 0), 0);
      };
      await vi.waitFor(async () => expect(await counted()).toBe(requests), { timeout: 30_000, interval: 500 });
      // Asked again on new connections (so of both workers in turn), each answers the same total.
      for (let i = 0; i < 4; i++) expect(await counted()).toBe(requests);
    } finally {
      await gateway.stop();
    }
  });
});

describe('a gateway with no route version active', () => {
  it('answers /ready 503 naming the routes, and keeps running', async () => {
    const port = await freePort();
    const gateway = startProcess('gateway', 'apps/gateway/src/main.ts', port, { ...stack.env(), DATABASE_URL: emptyDb.url, WEB_CONCURRENCY: '1' });
    try {
      await waitForReady(gateway, '/health');
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${gateway.url}/ready`);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { checks: Array<{ name: string; ok: boolean }> };
        expect(body.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['routes']);
      }
      // A failed check once left a rejected promise unhandled, which ended the process.
      await new Promise((r) => setTimeout(r, 200));
      expect(gateway.child.exitCode).toBeNull();
    } finally {
      await gateway.stop();
    }
  });
});
