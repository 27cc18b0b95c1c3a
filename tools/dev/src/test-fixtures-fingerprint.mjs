/**
 * An Nx runtime input of every `test` target (nx.json, namedInputs.testFixtures): one line that
 * changes when OPA's compliance cases change. They live outside the tracked files Nx hashes
 * (OPA_COMPLIANCE_DIR, the team's sibling folder, or the git-ignored fetch cache), so without this
 * a changed case could replay a cached green result. Lists path, size and mtime of every file in
 * each place libs/rego/compliance/locate.ts may read, hashed; plain .mjs so it starts in
 * milliseconds.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';

const root = resolve(import.meta.dirname, '../../..');
const places = [process.env.OPA_COMPLIANCE_DIR, resolve(root, '../shared/opa-compliance'), join(root, '.cache/opa-compliance')];
const hash = createHash('sha256');

function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // absent: nothing to hash
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, e.name);
    if (e.isDirectory()) walk(full);
    else {
      const s = statSync(full);
      hash.update(`${full}\0${s.size}\0${s.mtimeMs}\n`);
    }
  }
}

for (const place of places) if (place) walk(resolve(place));
process.stdout.write(`${hash.digest('hex')}\n`);
