import { readFileSync } from 'node:fs';

/** Parses known-failures.txt: `<category>/<note>  # reason` per line. */
export function readKnownFailures(file: string): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const i = line.lastIndexOf('  # ');
    const id = (i >= 0 ? line.slice(0, i) : line).trimEnd();
    out.set(id, i >= 0 ? line.slice(i + 4) : '');
  }
  return out;
}
