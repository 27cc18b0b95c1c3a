import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ConfigError } from '@cloud-stack/service-kit';
import { policyServerEnv, runPolicyTests } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const V0_LIBRARY = fileURLToPath(new URL('../../fixtures/v0-library', import.meta.url));

const pod = (images: string[]) => ({
  review: { object: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
  parameters: { repos: ['registry.acme.example/'] },
});

describe('--v0-compatible (POLICY_V0_COMPATIBLE)', () => {
  let sc: PolicySidecarApp | undefined;
  afterEach(async () => {
    await sc?.close();
    sc = undefined;
  });

  it('is what the sidecar’s --v0-compatible flag sets; other flags are refused', () => {
    expect(policyServerEnv(['--v0-compatible'], { PORT: '1' })).toEqual({ PORT: '1', POLICY_V0_COMPATIBLE: 'true' });
    expect(policyServerEnv([], { PORT: '1' })).toEqual({ PORT: '1' });
    expect(() => policyServerEnv(['--v1-compatible'], {})).toThrow(ConfigError);
  });

  it('serves a v0 policy library from the directory', async () => {
    sc = await sidecar({ POLICY_DIR: V0_LIBRARY, POLICY_V0_COMPATIBLE: 'true' });
    const res = await request(sc.app).post('/v1/data/k8sallowedrepos/violation').send({ input: pod(['registry.acme.example/web:1', 'docker.io/nginx']) });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([
      { msg: 'container <c1> has an invalid image repo <docker.io/nginx>, allowed repos are ["registry.acme.example/"]' },
    ]);
    const modern = await request(sc.app).post('/v1/data/mixed/legacy/decision').send({ input: {} });
    expect(modern.body.result).toEqual({ allowed: false, reasons: ['no owner'] });
  });

  it('parses PUT /v1/policies as v0, and still holds a rego.v1 module to v1', async () => {
    const files = tempPolicyDir({});
    try {
      sc = await sidecar({ POLICY_DIR: files.dir, POLICY_V0_COMPATIBLE: 'true' });
      const put = await request(sc.app).put('/v1/policies/legacy').set('content-type', 'text/plain').send('package legacy\n\ndeny[msg] {\n  input.x\n  msg := "x is set"\n}\n');
      expect(put.status).toBe(200);
      const res = await request(sc.app).post('/v1/data/legacy/deny').send({ input: { x: true } });
      expect(res.body.result).toEqual(['x is set']);
      const v1 = await request(sc.app).put('/v1/policies/strict').set('content-type', 'text/plain').send('package strict\n\nimport rego.v1\n\np { true }\n');
      expect(v1.status).toBe(400);
      expect(v1.body.errors).toEqual([expect.objectContaining({ code: 'rego_parse_error', message: '`if` keyword is required before rule body' })]);
    } finally {
      files.remove();
    }
  });

  it('keeps the server’s own system.authz policy v1 (a per-module version)', async () => {
    sc = await sidecar({ POLICY_DIR: V0_LIBRARY, POLICY_V0_COMPATIBLE: 'true', POLICY_AUTHORIZATION: 'basic', POLICY_AUTHENTICATION: 'token', POLICY_TOKEN: 'client-token' });
    const denied = await request(sc.app).post('/v1/data/k8sallowedrepos/violation').send({ input: pod([]) });
    expect(denied.status).toBe(401);
    const allowed = await request(sc.app).post('/v1/data/k8sallowedrepos/violation').set('authorization', 'Bearer client-token').send({ input: pod([]) });
    expect(allowed.status).toBe(200);
    expect(allowed.body.result).toEqual([]);
  });

  it('without it, the same library does not load: v1 refuses v0 rules', async () => {
    sc = await sidecar({ POLICY_DIR: V0_LIBRARY });
    expect(sc.server.store.status().lastLoad).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ code: 'rego_parse_error', message: '`if` keyword is required before rule body' })]) });
    const put = await request(sc.app).put('/v1/policies/legacy').set('content-type', 'text/plain').send('package legacy\n\ndeny[msg] { msg := "x" }\n');
    expect(put.status).toBe(400);
  });
});

describe('policy tests of a v0 library (opa test --v0-compatible)', () => {
  it('all pass with the v0 option, and none compile without it', async () => {
    const report = await runPolicyTests(V0_LIBRARY, { regoVersion: 'v0' });
    expect(report.compileError).toBeUndefined();
    expect(report.results.filter((r) => r.status !== 'PASS')).toEqual([]);
    expect(report.passed).toBe(28);
    expect((await runPolicyTests(V0_LIBRARY)).compileError).toMatch(/rego_parse_error: `if` keyword is required before rule body/);
  });

  it('npm run policy:test -- --v0-compatible DIR runs DIR instead of infra/policies', async () => {
    // npm passes the script's own `infra/policies` first, then what follows `--`.
    const args = ['--import', 'tsx', 'apps/policy-sidecar/src/policy-test.ts', 'infra/policies', '--v0-compatible', V0_LIBRARY];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT });
    expect(stdout).toMatch(/^data\.k8sallowedrepos\.test_other_repo_is_denied: PASS \(\d+\.\d{3}ms\)$/m);
    expect(stdout).toMatch(/^data\.mixed\.legacy\.test_keywords_of_v1_are_names: PASS/m);
    expect(stdout).not.toMatch(/data\.gateway\./);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('28 passed, 0 failed');
  });

  it('refuses an unknown option', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/policy-sidecar/src/policy-test.ts', '--v0', V0_LIBRARY], { cwd: ROOT });
    const err = (await run.then(() => undefined, (e: unknown) => e)) as { code?: number; stderr?: string } | undefined;
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/^unknown option --v0 /);
  });
});
