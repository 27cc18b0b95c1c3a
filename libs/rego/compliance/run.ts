/**
 * `npm run rego:compliance [-- DIR] [--category X] [--verbose] [--write-known-failures]`:
 * runs OPA's compliance cases against the engine and prints a table per category. Without DIR
 * the cases are found as locate.ts says; exits 1 when a case outside known-failures.txt fails.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCase, type CaseOutcome } from './cases';
import { readKnownFailures } from './known-failures';
import { MISSING_CASES_HINT, locateCases } from './locate';
import { loadCases } from './read-cases';

const here = dirname(fileURLToPath(import.meta.url));
export const KNOWN_FAILURES_FILE = join(here, 'known-failures.txt');

function main(argv: readonly string[]): number {
  let dir: string | undefined;
  let category: string | undefined;
  let verbose = false;
  let write = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--category') category = argv[++i];
    else if (a === '--verbose') verbose = true;
    else if (a === '--write-known-failures') write = true;
    else if (!a.startsWith('--')) dir = resolve(process.cwd(), a);
  }
  dir ??= locateCases()?.dir;
  if (!dir) {
    console.error(MISSING_CASES_HINT);
    return 1;
  }
  const cases = loadCases(dir).filter((c) => !category || c.category === category);
  const outcomes: CaseOutcome[] = cases.map((c) => runCase(c));
  const byCat = new Map<string, { passed: number; total: number }>();
  for (const o of outcomes) {
    const s = byCat.get(o.category) ?? { passed: 0, total: 0 };
    s.total++;
    if (o.passed) s.passed++;
    byCat.set(o.category, s);
  }
  const width = Math.max(8, ...[...byCat.keys()].map((k) => k.length));
  console.log(`${'category'.padEnd(width)}  passed  total      %`);
  for (const [cat, s] of [...byCat].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${cat.padEnd(width)}  ${String(s.passed).padStart(6)}  ${String(s.total).padStart(5)}  ${((100 * s.passed) / s.total).toFixed(1).padStart(5)}`);
  }
  const failed = outcomes.filter((o) => !o.passed);
  if (verbose) for (const f of failed) console.log(`FAIL ${f.id}: ${f.reason ?? ''}`);
  const known = readKnownFailures(KNOWN_FAILURES_FILE);
  const unexpected = failed.filter((f) => !known.has(f.id));
  if (unexpected.length && !verbose) for (const f of unexpected) console.log(`NEW FAIL ${f.id}: ${f.reason ?? ''}`);
  if (write) {
    const lines = failed.map((f) => `${f.id}  # ${(f.reason ?? '').replace(/\s+/g, ' ').slice(0, 160)}`);
    writeFileSync(KNOWN_FAILURES_FILE, lines.join('\n') + '\n');
  }
  console.log(`${outcomes.length - failed.length} passed, ${failed.length} failed`);
  return unexpected.length && !write ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  // A bad OPA_COMPLIANCE_DIR or an unreadable case file: one line, not a stack.
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}
