/**
 * `npm run chaos [fault-id…]`: every fault (or the ones named, in that order; one named twice runs
 * twice), one at a time, under steady traffic, against a PostgreSQL and a Redis of the suite's
 * own; prints one row per fault and exits 1 if any failed.
 */
import { join } from 'node:path';
import { FAULTS } from './faults';
import { renderTable } from './report';
import { ROOT } from './stack';
import { runChaos } from './suite';

const named = process.argv.slice(2);
const unknown = named.filter((id) => !FAULTS.some((f) => f.id === id));
if (unknown.length) {
  process.stderr.write(`unknown fault ${unknown.join(', ')}; the faults: ${FAULTS.map((f) => f.id).join(', ')}\n`);
  process.exit(2);
}
const began = Date.now();
const results = await runChaos({
  faults: named.length ? named.map((id) => FAULTS.find((f) => f.id === id)!) : FAULTS,
  settleMs: 3000,
  recoverTimeoutMs: 90_000,
  logDir: join(ROOT, 'tmp', 'chaos'),
  log: (line) => process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`),
});
process.stdout.write(`\n${renderTable(results)}\n`);
process.exitCode = results.every((r) => r.passed) ? 0 : 1;
