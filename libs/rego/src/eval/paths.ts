import type { Term as T } from '../ast';

/* Paths of refs as strings (`with` targets, overrides). */

export function targetPath(t: T): string[] {
  return termPathOf(t) ?? [];
}

export function termPathOf(t: T): string[] | undefined {
  if (t.kind === 'var') return [t.name];
  if (t.kind !== 'ref' || t.head.kind !== 'var') return undefined;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.kind === 'scalar' && typeof p.value === 'string') out.push(p.value);
    else return undefined;
  }
  return out;
}

export function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

export function sameSegs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && startsWith(a, b);
}
