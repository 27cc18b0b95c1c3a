import { describe, expect, it } from 'vitest';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases, runCase } from '../compliance/cases';
import { readKnownFailures } from '../compliance/known-failures';

const here = dirname(fileURLToPath(import.meta.url));
const DIR = resolve(here, '../../../../shared/opa-compliance');
const KNOWN = join(here, '../compliance/known-failures.txt');

describe('OPA compliance suite (ratchet)', () => {
  const cases = loadCases(DIR);
  const outcomes = cases.map(runCase);
  const known = readKnownFailures(KNOWN);

  it('loads the suite', () => {
    expect(cases.length).toBeGreaterThan(1000);
  });

  it('fails no case outside known-failures.txt', () => {
    const unexpected = outcomes.filter((o) => !o.passed && !known.has(o.id)).map((o) => `${o.id}: ${o.reason ?? ''}`);
    expect(unexpected).toEqual([]);
  });

  it('reports known failures that now pass (remove them from the list)', () => {
    const fixed = outcomes.filter((o) => o.passed && known.has(o.id)).map((o) => o.id);
    if (fixed.length) console.log(`known failures now passing (${fixed.length}):\n  ${fixed.join('\n  ')}`);
    expect(outcomes.filter((o) => o.passed).length).toBeGreaterThan(0);
  });
});
