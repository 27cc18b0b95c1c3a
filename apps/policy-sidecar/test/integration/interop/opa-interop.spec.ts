import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { freePort } from '@cloud-stack/test-kit';
import type { PolicySidecarApp } from '../../../src/app';
import { INFRA_POLICIES, sidecar } from '../../support/sidecar';
import { gatewayInput } from '../../support/gateway-input';

function opaOnPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v opa'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const opa = opaOnPath();
if (!opa) console.log('opa interop: skipped, no `opa` binary on PATH (install OPA 1.x to compare the sidecar with it)');

const QUERIES: Array<{ path: string; input: unknown }> = [
  { path: 'gateway/authz/decision', input: gatewayInput() },
  { path: 'gateway/authz/decision', input: gatewayInput({ route: { permission: 'billing:approve', requires_governor: true, cost: 3 }, budget: { monthly_spend: 99, cap: 100 } }) },
  { path: 'gateway/authz/decision', input: gatewayInput({ route: { permission: 'agent:execute' }, subject: { trial_mode: true, roles: ['customer'] } }) },
  { path: 'gateway/authz/decision', input: gatewayInput({ subject: { authenticated: false, roles: [] } }) },
  { path: 'gateway/authz/decision', input: { route: { id: 'x' } } },
  { path: 'gateway/rbac/roles_allowed', input: {} },
  { path: 'gateway/authz/nothing_here', input: {} },
];

describe.skipIf(!opa)('interop with a real OPA', () => {
  let sc: PolicySidecarApp;
  let child: ChildProcess;
  let opaUrl: string;

  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: INFRA_POLICIES });
    const port = await freePort();
    opaUrl = `http://127.0.0.1:${port}`;
    child = spawn(opa!, ['run', '--server', '--addr', `127.0.0.1:${port}`, INFRA_POLICIES], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${opaUrl}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('opa did not start');
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await sc?.close();
  });

  it.each(QUERIES.map((q, i) => [i, q] as const))('query %i answers the same result as OPA', async (_i, q) => {
    const ours = await request(sc.app).post(`/v1/data/${q.path}`).send({ input: q.input });
    const theirs = await fetch(`${opaUrl}/v1/data/${q.path}`, { method: 'POST', body: JSON.stringify({ input: q.input }) });
    expect(ours.status).toBe(theirs.status);
    const body = (await theirs.json()) as Record<string, unknown>;
    expect('result' in ours.body).toBe('result' in body);
    expect(ours.body.result).toEqual(body.result);
  });

  it('rejects the same broken policy with the same error shape', async () => {
    const source = 'package broken\n\nallow if {\n';
    const ours = await request(sc.app).put('/v1/policies/broken').set('Content-Type', 'text/plain').send(source);
    const theirs = await fetch(`${opaUrl}/v1/policies/broken`, { method: 'PUT', body: source });
    expect(ours.status).toBe(theirs.status);
    const body = (await theirs.json()) as { code: string; message: string; errors: Array<{ code: string; location: unknown }> };
    expect(ours.body.code).toBe(body.code);
    expect(ours.body.message).toBe(body.message);
    expect(ours.body.errors.map((e: { code: string }) => e.code)).toEqual(body.errors.map((e) => e.code));
  });

  it('`opa test` passes the same Rego unit tests', () => {
    expect(() => execFileSync(opa!, ['test', INFRA_POLICIES], { stdio: 'pipe' })).not.toThrow();
  });
});
