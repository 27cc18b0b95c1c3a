/**
 * Sums the vitest JSON reports of every project (tmp/test-results/<project root>.json, e.g.
 * apps/identity.json; restored by Nx on a cache hit) into one closing line,
 * `N passed, N failed, N skipped`, and lists the failed tests by name.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}

const dir = resolve(import.meta.dirname, '../../../tmp/test-results');
const files = existsSync(dir)
  ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => f.replace(/\\/g, '/'))
      .filter((f) => f.endsWith('.json'))
  : [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files.sort()) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Report;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  process.stdout.write(`${file.replace(/\.json$/, '').padEnd(32)} ${report.numPassedTests} passed, ${report.numFailedTests} failed\n`);
  for (const suite of report.testResults) {
    for (const t of suite.assertionResults.filter((a) => a.status === 'failed')) process.stdout.write(`  FAILED ${t.fullName}\n`);
  }
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
