/**
 * `npm run policy:test [-- [--v0-compatible] DIR]`: runs the test_* rules of DIR's Rego modules
 * on our engine, like `opa test -v [--v0-compatible] DIR`; prints PASS/FAIL per test and
 * `N passed, N failed`; exits 1 on any failure. The npm script names infra/policies first, so the
 * last directory given wins.
 */
import { resolve } from 'node:path';
import { runPolicyTests } from '@cloud-stack/policy-server';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a.startsWith('--') && a !== '--v0-compatible');
if (unknown.length) {
  process.stderr.write(`unknown option ${unknown.join(' ')} (usage: policy-test [--v0-compatible] DIR)\n`);
  process.exit(2);
}
const dirs = args.filter((a) => !a.startsWith('--'));
const dir = resolve(dirs[dirs.length - 1] ?? 'infra/policies');
const report = await runPolicyTests(dir, { regoVersion: args.includes('--v0-compatible') ? 'v0' : 'v1' });
if (report.compileError) {
  process.stdout.write(`${dir}: the policies do not compile\n${report.compileError}\n`);
}
for (const r of report.results) {
  const ms = (r.durationNs / 1e6).toFixed(3);
  process.stdout.write(`${r.name}: ${r.status} (${ms}ms)${r.error ? `\n  ${r.error}` : ''}\n`);
}
process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
if (report.failed > 0 || report.results.length === 0) process.exitCode = 1;
