import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runPolicyTests } from '@cloud-stack/policy-server';
import { INFRA_POLICIES } from '../../support/sidecar';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

describe('the Rego unit tests of infra/policies', () => {
  it('all pass on our engine', async () => {
    const report = await runPolicyTests(INFRA_POLICIES);
    expect(report.compileError).toBeUndefined();
    expect(report.results.filter((r) => r.status !== 'PASS')).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(15);
  });

  it('npm run policy:test prints one line per test and the closing count', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/policy-sidecar/src/policy-test.ts', 'infra/policies'], {
      cwd: ROOT,
    });
    expect(stdout).toMatch(/^data\.gateway\.authz_test\.test_viewer_can_read_agents: PASS \(\d+\.\d{3}ms\)$/m);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('exits 1 and reports FAIL when a test fails', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'policy-test-'));
    try {
      writeFileSync(join(dir, 'p_test.rego'), 'package p_test\n\ntest_ok if true\n\ntest_bad if 1 == 2\n');
      const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/policy-sidecar/src/policy-test.ts', dir], { cwd: ROOT });
      const err = (await run.then(() => undefined, (e: unknown) => e)) as { code?: number; stdout?: string } | undefined;
      expect(err?.code).toBe(1);
      expect(err?.stdout).toMatch(/data\.p_test\.test_bad: FAIL/);
      expect(err?.stdout).toMatch(/1 passed, 1 failed\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
