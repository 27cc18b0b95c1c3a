import * as yaml from 'js-yaml';

/**
 * OPA METADATA annotations: a comment block starting `# METADATA` directly above a package
 * or rule, holding YAML. Normalized as OPA serializes them (authors as {name, email},
 * related_resources as {ref}, scope filled in).
 */
export function annotationsAbove(
  byRow: ReadonlyMap<number, string>,
  row: number,
  defaultScope: 'package' | 'rule',
  fail: (message: string) => never,
): Record<string, unknown> | undefined {
  let r = row - 1;
  const lines: string[] = [];
  while (byRow.has(r)) lines.unshift(byRow.get(r--)!);
  const start = lines.findIndex((l) => l.trim() === 'METADATA');
  if (start < 0) return undefined;
  const text = lines
    .slice(start + 1)
    .map((l) => (l.startsWith(' ') ? l.slice(1) : l))
    .join('\n');
  let doc: unknown;
  try {
    doc = yaml.load(text) ?? {};
  } catch (e) {
    return fail(`invalid METADATA: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('invalid METADATA: expected a YAML map');
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  out.scope ??= defaultScope;
  if (Array.isArray(out.authors)) out.authors = out.authors.map(author);
  if (Array.isArray(out.organizations)) out.organizations = out.organizations.map(String);
  if (Array.isArray(out.related_resources)) {
    out.related_resources = out.related_resources.map((x) => (typeof x === 'string' ? { ref: x } : x));
  }
  return out;
}

/** "Jane Doe <jane@example.com>" -> { name, email }. */
function author(a: unknown): unknown {
  if (typeof a !== 'string') return a;
  const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(a);
  if (!m) return { name: a.trim() };
  return m[1] ? { name: m[1], email: m[2] } : { email: m[2] };
}

/** Comment text by row, for annotationsAbove. */
export function commentRows(comments: ReadonlyArray<{ readonly row: number; readonly text: string }>): Map<number, string> {
  return new Map(comments.map((c) => [c.row, c.text]));
}
