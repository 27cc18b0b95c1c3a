import type { Route } from '../route';

export interface FieldChange {
  readonly from: unknown;
  readonly to: unknown;
}

export interface RouteDiff {
  readonly added: readonly Route[];
  readonly removed: readonly Route[];
  readonly changed: readonly { readonly id: string; readonly fields: Readonly<Record<string, FieldChange>> }[];
}

// Lists whose order means nothing: reordering them is not a change.
const SET_FIELDS = new Set(['hosts', 'methods', 'stages', 'cors_origins']);

function canonical(field: string, value: unknown): string {
  if (SET_FIELDS.has(field) && Array.isArray(value)) return JSON.stringify([...value].sort());
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return JSON.stringify(Object.fromEntries(entries));
  }
  return JSON.stringify(value);
}

/** What turns route set `a` into route set `b`, by route id; lists ordered by id. */
export function diffRoutes(a: readonly Route[], b: readonly Route[]): RouteDiff {
  const before = new Map(a.map((r) => [r.id, r]));
  const after = new Map(b.map((r) => [r.id, r]));
  const byId = (x: Route, y: Route) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  const added = b.filter((r) => !before.has(r.id)).sort(byId);
  const removed = a.filter((r) => !after.has(r.id)).sort(byId);
  const changed: { id: string; fields: Record<string, FieldChange> }[] = [];
  for (const next of [...b].sort(byId)) {
    const prev = before.get(next.id);
    if (!prev) continue;
    const fields: Record<string, FieldChange> = {};
    for (const key of Object.keys(next) as (keyof Route)[]) {
      if (canonical(key, prev[key]) !== canonical(key, next[key])) fields[key] = { from: prev[key], to: next[key] };
    }
    if (Object.keys(fields).length) changed.push({ id: next.id, fields });
  }
  return { added, removed, changed };
}

/** `+2 −1 ~3 (added: a, b; removed: c; changed: d, e, f)` for notes and logs. */
export function summarizeDiff(diff: RouteDiff): string {
  const parts: string[] = [];
  if (diff.added.length) parts.push(`added: ${diff.added.map((r) => r.id).join(', ')}`);
  if (diff.removed.length) parts.push(`removed: ${diff.removed.map((r) => r.id).join(', ')}`);
  if (diff.changed.length) parts.push(`changed: ${diff.changed.map((c) => c.id).join(', ')}`);
  const head = `+${diff.added.length} -${diff.removed.length} ~${diff.changed.length}`;
  return parts.length ? `${head} (${parts.join('; ')})` : `${head} (no changes)`;
}
