import { termString } from '../builtins';
import { RegoError } from '../errors';
import { RegoObject, RegoSet, equal, type Value } from '../value';
import type { CompiledRule } from '../compiler/rule-tree';

/* Building and reading documents: lookups, `with` patches, partial-rule assembly. */

export function conflict(message: string, at: { loc: { file: string; row: number; col: number } }): RegoError {
  return new RegoError('eval_conflict_error', message, { location: at.loc, halt: true });
}

/** Element of a collection at key (arrays by integer index, sets by membership). */
export function lookup(v: Value | undefined, key: Value): Value | undefined {
  if (v instanceof RegoObject) return v.get(key);
  if (Array.isArray(v)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) return undefined;
    return (v as readonly Value[])[key];
  }
  if (v instanceof RegoSet) return v.has(key) ? v.get(key) : undefined;
  return undefined;
}

/** Copy of `base` with `value` at `path`, creating objects on the way (OPA's with semantics). */
export function setPath(base: Value | undefined, path: readonly string[], value: Value): Value {
  if (path.length === 0) return value;
  const obj = base instanceof RegoObject ? base.clone() : new RegoObject();
  obj.set(path[0]!, setPath(obj.get(path[0]!), path.slice(1), value));
  return obj;
}

/**
 * Objects the evaluator built to hold virtual documents (as opposed to values a rule
 * produced): only these merge with other rules' documents; a rule's value does not.
 */
export const VIRTUAL = new WeakSet<object>();

/** Merges two virtual documents at one key: sets union, objects key by key, else equal. */
export function mergeDocs(a: Value, b: Value, at: CompiledRule): Value {
  if (a instanceof RegoSet && b instanceof RegoSet) return a.union(b);
  if (a instanceof RegoObject && b instanceof RegoObject && VIRTUAL.has(a) && VIRTUAL.has(b)) {
    const out = a.clone();
    VIRTUAL.add(out);
    for (const [k, v] of b.entries()) {
      const prev = out.get(k);
      out.set(k, prev === undefined ? v : mergeDocs(prev, v, at));
    }
    return out;
  }
  if (!equal(a, b)) throw conflict('object keys must be unique', at);
  return a;
}

/** Adds one solution of a partial rule to the document being built. */
export function insertPartial(doc: Value, r: CompiledRule, keys: readonly Value[], v: Value): Value {
  if (r.kind === 'multi' && keys.length === 0) {
    (doc as RegoSet).add(v);
    return doc;
  }
  let cur = doc as RegoObject;
  const last = r.kind === 'multi' ? keys.length : keys.length - 1;
  for (let i = 0; i < last; i++) {
    const key = keys[i]!;
    let next = cur.get(key);
    if (next === undefined) {
      next = r.kind === 'multi' && i === keys.length - 1 ? new RegoSet() : new RegoObject();
      if (next instanceof RegoObject) VIRTUAL.add(next);
      cur.set(key, next);
    }
    if (r.kind === 'multi' && i === keys.length - 1) {
      if (!(next instanceof RegoSet)) throw conflict('object keys must be unique', r);
      next.add(v);
      return doc;
    }
    if (!(next instanceof RegoObject)) throw conflict('object keys must be unique', r);
    cur = next;
  }
  if (r.kind === 'multi') return doc;
  const key = keys[keys.length - 1]!;
  const prev = cur.get(key);
  if (prev !== undefined && !equal(prev, v)) throw conflict('object keys must be unique', r);
  cur.set(key, v);
  return doc;
}

/** Non-string values render as Rego terms (`[1, 2]`, `{"a": 1}`, `set()`), as OPA does. */
export function templateString(v: Value): string {
  return termString(v);
}
