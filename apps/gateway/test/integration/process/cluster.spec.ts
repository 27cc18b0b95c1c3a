import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForReady } from '@cloud-stack/test-kit';
import { demoRoutes, useGatewayStack } from '../../support/stack';

const stack = useGatewayStack({ routes: demoRoutes });

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
      // one); a new connection reaches a live worker.
      const ok = async (): Promise<number> => {
        for (let attempt = 1; ; attempt++) {
          try {
            return (await fetch(`${gateway.url}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` } })).status;
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
