import { BigNum, compareNumbers, numbersEqual } from './number';
import { RegoObject } from './object';
import { RegoSet } from './set';
import type { TypeName, Value } from './types';

/** OPA's sort rank of each type (v1/ast/compare.go valueSortOrder). */
function rank(v: Value): number {
  switch (typeof v) {
    case 'boolean':
      return 1;
    case 'number':
      return 2;
    case 'string':
      return 3;
  }
  if (v === null) return 0;
  if (v instanceof BigNum) return 2;
  if (Array.isArray(v)) return 7;
  if (v instanceof RegoObject) return 8;
  return 9;
}

export function typeName(v: Value): TypeName {
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
  }
  if (v === null) return 'null';
  if (v instanceof BigNum) return 'number';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegoObject) return 'object';
  return 'set';
}

/**
 * Go compares strings bytewise on UTF-8, i.e. by code point. JS `<` compares UTF-16 code
 * units, which differs only between surrogates and U+E000..U+FFFF, so fix those up.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      if (x <= 0xdfff) x += 0x10000;
      if (y <= 0xdfff) y += 0x10000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareSlices(a: readonly Value[], b: readonly Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** OPA's total order: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return a === b ? 0 : a ? 1 : -1;
    case 2:
      return compareNumbers(a as number | BigNum, b as number | BigNum);
    case 3:
      return compareStrings(a as string, b as string);
    case 7:
      return compareSlices(a as readonly Value[], b as readonly Value[]);
    case 8: {
      // Sorted keys pairwise: key first, then the value under it; then length.
      const oa = a as RegoObject;
      const ob = b as RegoObject;
      const ka = oa.sortedKeys();
      const kb = ob.sortedKeys();
      const n = Math.min(ka.length, kb.length);
      for (let i = 0; i < n; i++) {
        const kc = compare(ka[i]!, kb[i]!);
        if (kc !== 0) return kc;
        const vc = compare(oa.lookup(ka[i]!)!.value, ob.lookup(kb[i]!)!.value);
        if (vc !== 0) return vc;
      }
      return ka.length < kb.length ? -1 : ka.length > kb.length ? 1 : 0;
    }
    default:
      return compareSlices((a as RegoSet).sorted(), (b as RegoSet).sorted());
  }
}

/** Structural equality (1 and 1.0 are equal; {1,2} equals {2,1}). */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  switch (typeof a) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return b instanceof BigNum ? false : a === b;
  }
  if (a instanceof BigNum) return (typeof b === 'number' || b instanceof BigNum) && numbersEqual(a, b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return false;
    const x = a as readonly Value[];
    const y = b as readonly Value[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equal(x[i]!, y[i]!)) return false;
    return true;
  }
  if (a instanceof RegoObject) {
    if (!(b instanceof RegoObject) || a.size !== b.size) return false;
    return a.every((k, v) => {
      const w = b.get(k);
      return w !== undefined && equal(v, w);
    });
  }
  if (a instanceof RegoSet) {
    if (!(b instanceof RegoSet) || a.size !== b.size) return false;
    for (const v of a.values()) if (!b.has(v)) return false;
    return true;
  }
  return false;
}

export function isArray(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}
export function isSet(v: Value): v is RegoSet {
  return v instanceof RegoSet;
}
export function isObject(v: Value): v is RegoObject {
  return v instanceof RegoObject;
}
