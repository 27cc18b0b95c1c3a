import { BigNum, canonicalNumberText, numberToString } from './number';
import { RegoObject } from './object';
import { RegoSet } from './set';
import type { MapKey, Value } from './types';

/**
 * Map key of a value: equal values give equal keys, different values different keys.
 * Scalars are their own key (JS Map keeps 1, "1", true and null apart, and our numbers are
 * canonical so 1 and 1.0 are both the number 1). Big numbers and composites become a
 * canonical string prefixed with NUL; a real string starting with NUL is escaped so it can
 * never collide with one of those.
 */
export function keyOf(v: Value): MapKey {
  switch (typeof v) {
    case 'string':
      return v.length > 0 && v.charCodeAt(0) === 0 ? '\u0000' + JSON.stringify(v) : v;
    case 'number':
    case 'boolean':
      return v;
    default:
      if (v === null) return null;
      return '\u0000' + canonical(v);
  }
}

/**
 * Arrays are plain JS arrays, immutable by convention once shared; the cache also records
 * the length it saw so an array still being filled (push) never serves a stale key.
 */
const canonCache = new WeakMap<object, { readonly len: number; readonly text: string }>();

/** Canonical text of a value, used for hashing only (sets/objects ordered by key text). */
export function canonical(v: Value): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return numberToString(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v === null) return 'null';
  if (v instanceof BigNum) return canonicalNumberText(v);
  const cached = canonCache.get(v);
  if (cached !== undefined && Array.isArray(v) && cached.len === v.length) return cached.text;
  let out: string;
  if (Array.isArray(v)) {
    out = '[' + (v as readonly Value[]).map(canonical).join(',') + ']';
  } else if (v instanceof RegoSet) {
    out = '<' + v.toArray().map(canonical).sort().join(',') + '>';
  } else if (v instanceof RegoObject) {
    const parts: string[] = [];
    v.every((k, val) => {
      parts.push(canonical(k) + ':' + canonical(val));
      return true;
    });
    out = '{' + parts.sort().join(',') + '}';
  } else {
    throw new TypeError('not a Rego value');
  }
  // Sets and objects are built incrementally by the evaluator: not cached.
  if (Array.isArray(v)) canonCache.set(v, { len: v.length, text: out });
  return out;
}
