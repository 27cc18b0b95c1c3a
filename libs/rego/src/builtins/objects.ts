/** OPA v1/topdown/object.go and subset: object.* built-ins. */
import type { BuiltinRegistry } from './registry';
import { def, elemErr, objectArg, typeErr } from './utils';
import { RegoObject, RegoSet, equal, type Value } from '../value';

/** Keys given as array, set or object (its keys): getObjectKeysParam. */
export function keysParam(v: Value): RegoSet {
  if (Array.isArray(v)) return new RegoSet(v as readonly Value[]);
  if (v instanceof RegoSet) return v;
  if (v instanceof RegoObject) return new RegoSet(v.keys());
  throw typeErr(2, v, 'object', 'set', 'array');
}

/** Value at a path through objects, arrays (integer index) and sets (member). */
export function findPath(root: Value, path: readonly Value[]): Value | undefined {
  let cur: Value = root;
  for (const seg of path) {
    if (cur instanceof RegoObject) {
      const next = cur.get(seg);
      if (next === undefined) return undefined;
      cur = next;
    } else if (Array.isArray(cur)) {
      if (typeof seg !== 'number' || !Number.isInteger(seg) || seg < 0 || seg >= cur.length) return undefined;
      cur = (cur as readonly Value[])[seg]!;
    } else if (cur instanceof RegoSet) {
      const m = cur.get(seg);
      if (m === undefined) return undefined;
      cur = m;
    } else return undefined;
  }
  return cur;
}

/** Recursive merge, right wins; nested objects merge (mergeWithOverwrite). */
export function mergeWithOverwrite(a: RegoObject, b: RegoObject): RegoObject {
  const out = a.clone();
  for (const [k, v] of b.entries()) {
    const orig = out.get(k);
    if (orig instanceof RegoObject && v instanceof RegoObject) out.set(k, mergeWithOverwrite(orig, v));
    else out.set(k, v);
  }
  return out;
}

/** OPA's filterObject: keep the parts of `o` selected by the filter tree (null = whole). */
export function filterValue(o: Value, filter: Value): Value {
  if (filter === null) return o;
  if (!(filter instanceof RegoObject)) throw new Error('invalid filter value, expected an object');
  if (o instanceof RegoObject) {
    const out = new RegoObject();
    for (const [k, v] of o.entries()) {
      const f = filter.get(k);
      if (f !== undefined) out.set(k, filterValue(v, f));
    }
    return out;
  }
  if (Array.isArray(o)) {
    const out: Value[] = [];
    (o as readonly Value[]).forEach((v, i) => {
      const f = filter.get(String(i));
      if (f !== undefined) out.push(filterValue(v, f));
    });
    return out;
  }
  if (o instanceof RegoSet) {
    const out = new RegoSet();
    for (const v of o.values()) {
      const f = filter.get(v);
      if (f !== undefined) out.add(filterValue(v, f));
    }
    return out;
  }
  return o;
}

function isSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RegoObject && sub instanceof RegoObject) {
    for (const [k, v] of sub.entries()) {
      const sv = sup.get(k);
      if (sv === undefined) return false;
      // Nested collections compare by the same subset rules; anything else by equality.
      const nested =
        (sv instanceof RegoObject && v instanceof RegoObject) ||
        (sv instanceof RegoSet && v instanceof RegoSet) ||
        (Array.isArray(sv) && (Array.isArray(v) || v instanceof RegoSet));
      if (nested ? !isSubset(sv, v) : !equal(sv, v)) return false;
    }
    return true;
  }
  if (sup instanceof RegoSet && sub instanceof RegoSet) {
    for (const v of sub.values()) if (!sup.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && sub instanceof RegoSet) {
    const s = new RegoSet(sup as readonly Value[]);
    for (const v of sub.values()) if (!s.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    const a = sup as readonly Value[];
    const b = sub as readonly Value[];
    if (b.length === 0) return true;
    for (let i = 0; i + b.length <= a.length; i++) {
      let ok = true;
      for (let j = 0; j < b.length && ok; j++) ok = equal(a[i + j]!, b[j]!);
      if (ok) return true;
    }
    return false;
  }
  return false;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'object.union', 2, (args) => {
    const a = objectArg(args, 0);
    const b = objectArg(args, 1);
    return mergeWithOverwrite(a, b);
  });
  def(r, 'object.union_n', 1, ([arr]) => {
    if (!Array.isArray(arr)) throw typeErr(1, arr!, 'array');
    let out = new RegoObject();
    for (const o of arr as readonly Value[]) {
      if (!(o instanceof RegoObject)) throw elemErr(1, arr, o, 'object');
      out = mergeWithOverwrite(out, o);
    }
    return out;
  });
  def(r, 'object.remove', 2, (args) => {
    const o = objectArg(args, 0);
    const keys = keysParam(args[1]!);
    const out = new RegoObject();
    for (const [k, v] of o.entries()) if (!keys.has(k)) out.set(k, v);
    return out;
  });
  def(r, 'object.filter', 2, (args) => {
    const o = objectArg(args, 0);
    const keys = keysParam(args[1]!);
    const out = new RegoObject();
    for (const k of keys.sorted()) {
      const v = o.get(k);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  });
  def(r, 'object.get', 3, (args) => {
    const o = objectArg(args, 0);
    const key = args[1]!;
    if (!Array.isArray(key)) return o.get(key) ?? args[2]!;
    if (key.length === 0) return o;
    return findPath(o, key as readonly Value[]) ?? args[2]!;
  });
  def(r, 'object.keys', 1, (args) => new RegoSet(objectArg(args, 0).keys()));
  def(r, 'object.subset', 2, ([sup, sub]) => {
    const okSup = sup instanceof RegoObject || sup instanceof RegoSet || Array.isArray(sup);
    if (!okSup) throw typeErr(1, sup!, 'object', 'set', 'array');
    const okSub = sub instanceof RegoObject || sub instanceof RegoSet || Array.isArray(sub);
    if (!okSub) throw typeErr(2, sub!, 'object', 'set', 'array');
    // Mismatched kinds are simply not subsets (OPA errors only for non-collections).
    return isSubset(sup!, sub!);
  });
}

