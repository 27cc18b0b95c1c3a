import type { Term as T } from '../ast';
import { keyOf, type MapKey, type Value } from '../value';
import type { CompiledRule } from './rule-tree';

/**
 * OPA-style rule index (v1/ast/index.go, simplified): rules guarded by `ref == constant` (or
 * `ref = constant`) on one shared ground ref are bucketed by that constant, so evaluating the
 * node reads the ref once and only runs the rules whose constant matches. Functions are
 * indexed by a constant first argument.
 */
export interface RuleIndex {
  /** The ground ref all indexed rules compare (undefined for function indexes). */
  readonly ref: T | undefined;
  readonly buckets: ReadonlyMap<MapKey, readonly CompiledRule[]>;
  /** Rules without a guard on the ref: always candidates. */
  readonly rest: readonly CompiledRule[];
}

function guardOf(r: CompiledRule): Array<{ key: string; ref: T; value: Value }> {
  const out: Array<{ key: string; ref: T; value: Value }> = [];
  for (const e of r.body) {
    if (e.kind !== 'term' || e.negated || e.with.length) continue;
    const t = e.term;
    if (t.kind !== 'call' || t.target?.kind !== 'builtin') continue;
    const n = t.target.name;
    if (n !== 'eq' && n !== 'equal') continue;
    const [a, b] = t.args;
    if (!a || !b) continue;
    const pair = groundRef(a) && b.kind === 'scalar' ? ([a, b.value] as const) : groundRef(b) && a.kind === 'scalar' ? ([b, a.value] as const) : undefined;
    if (pair) out.push({ key: refKey(pair[0]), ref: pair[0], value: pair[1] });
  }
  return out;
}

/** A ref into input or data with only constant string/number segments. */
function groundRef(t: T): boolean {
  return (
    t.kind === 'ref' &&
    t.head.kind === 'var' &&
    (t.head.name === 'input' || t.head.name === 'data') &&
    t.path.every((p) => p.kind === 'scalar' && (typeof p.value === 'string' || typeof p.value === 'number'))
  );
}

function refKey(t: T): string {
  if (t.kind !== 'ref' || t.head.kind !== 'var') return '';
  return [t.head.name, ...t.path.map((p) => JSON.stringify((p as { value: unknown }).value))].join('.');
}

/** Builds the index of a node's rules, or undefined when no guard is shared by 2+ rules. */
export function buildRuleIndex(rules: readonly CompiledRule[]): RuleIndex | undefined {
  if (rules.length < 2) return undefined;
  if (rules[0]!.kind === 'function') return buildFunctionIndex(rules);
  const counts = new Map<string, number>();
  const guards = rules.map(guardOf);
  for (const gs of guards) for (const k of new Set(gs.map((g) => g.key))) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 1;
  for (const [k, c] of counts) if (c > bestCount) [best, bestCount] = [k, c];
  if (!best) return undefined;
  let ref: T | undefined;
  const buckets = new Map<MapKey, CompiledRule[]>();
  const rest: CompiledRule[] = [];
  rules.forEach((r, i) => {
    const g = guards[i]!.find((x) => x.key === best);
    if (!g) {
      rest.push(r);
      return;
    }
    ref = g.ref;
    const k = keyOf(g.value);
    const list = buckets.get(k) ?? [];
    list.push(r);
    buckets.set(k, list);
  });
  return { ref, buckets: withRest(rules, buckets, rest), rest };
}

function buildFunctionIndex(rules: readonly CompiledRule[]): RuleIndex | undefined {
  const buckets = new Map<MapKey, CompiledRule[]>();
  const rest: CompiledRule[] = [];
  for (const r of rules) {
    const a = r.args?.[0];
    if (a && a.kind === 'scalar') {
      const k = keyOf(a.value);
      const list = buckets.get(k) ?? [];
      list.push(r);
      buckets.set(k, list);
    } else rest.push(r);
  }
  if (buckets.size === 0) return undefined;
  return { ref: undefined, buckets: withRest(rules, buckets, rest), rest };
}

/** Candidate rules for a looked-up key value (undefined = the ref is undefined). */
export function candidates(index: RuleIndex, v: Value | undefined): readonly CompiledRule[] {
  if (v === undefined) return index.rest;
  return index.buckets.get(keyOf(v)) ?? index.rest;
}

/** Adds the unindexed rules to every bucket, in source order (OPA evaluates rules in order). */
function withRest(all: readonly CompiledRule[], buckets: Map<MapKey, CompiledRule[]>, rest: readonly CompiledRule[]): Map<MapKey, CompiledRule[]> {
  const out = new Map<MapKey, CompiledRule[]>();
  for (const [k, hit] of buckets) {
    const keep = new Set<CompiledRule>([...hit, ...rest]);
    out.set(k, all.filter((r) => keep.has(r)));
  }
  return out;
}
