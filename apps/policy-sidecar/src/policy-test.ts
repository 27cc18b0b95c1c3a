/**
 * `npm run policy:test [-- DIR]`: runs the test_* rules of DIR's Rego modules on our engine, like
 * `opa test -v DIR`; prints PASS/FAIL per test and `N passed, N failed`; exits 1 on any failure.
 */
import { resolve } from 'node:path';
import { runPolicyTests } from '@cloud-stack/policy-server';

const dir = resolve(process.argv[2] ?? 'infra/policies');
const report = await runPolicyTests(dir);
if (report.compileError) {
  process.stdout.write(`${dir}: the policies do not compile\n${report.compileError}\n`);
}
for (const r of report.results) {
  const ms = (r.durationNs / 1e6).toFixed(3);
  process.stdout.write(`${r.name}: ${r.status} (${ms}ms)${r.error ? `\n  ${r.error}` : ''}\n`);
}
process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
if (report.failed > 0 || report.results.length === 0) process.exitCode = 1;
