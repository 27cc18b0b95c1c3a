/**
 * OPA v1/topdown/aggregates.go: count, sum, product, max, min, sort, and the membership
 * operators behind `x in xs` (internal.member_2) and `k, v in xs` (internal.member_3).
 */
import type { BuiltinRegistry } from './registry';
import { def, elemErr, typeErr } from './utils';
import {
  BigNum,
  RegoObject,
  RegoSet,
  compare,
  equal,
  numAdd,
  numMul,
  type NumberValue,
  type Value,
} from '../value';

function numbersOf(v: Value): readonly NumberValue[] {
  const items = Array.isArray(v) ? (v as readonly Value[]) : v instanceof RegoSet ? v.sorted() : undefined;
  if (!items) throw typeErr(1, v, 'set', 'array');
  return items.map((x) => {
    if (typeof x !== 'number' && !(x instanceof BigNum)) throw elemErr(1, v, x, 'number');
    return x;
  });
}

function itemsOf(v: Value): readonly Value[] {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RegoSet) return v.sorted();
  throw typeErr(1, v, 'set', 'array');
}

export function register(r: BuiltinRegistry): void {
  def(r, 'count', 1, ([x]) => {
    if (typeof x === 'string') {
      let n = 0;
      // Runes, not UTF-16 units: count surrogate pairs once.
      for (let i = 0; i < x.length; i++) {
        const c = x.charCodeAt(i);
        if (c < 0xd800 || c > 0xdbff) n++;
      }
      return n;
    }
    if (Array.isArray(x)) return x.length;
    if (x instanceof RegoSet || x instanceof RegoObject) return x.size;
    throw typeErr(1, x!, 'array', 'object', 'set', 'string');
  });
  def(r, 'sum', 1, ([x]) => numbersOf(x!).reduce<NumberValue>((acc, n) => numAdd(acc, n), 0));
  def(r, 'product', 1, ([x]) => numbersOf(x!).reduce<NumberValue>((acc, n) => numMul(acc, n), 1));
  def(r, 'max', 1, ([x]) => {
    const items = itemsOf(x!);
    if (items.length === 0) return undefined;
    return items.reduce((m, v) => (compare(m, v) <= 0 ? v : m));
  });
  def(r, 'min', 1, ([x]) => {
    const items = itemsOf(x!);
    if (items.length === 0) return undefined;
    return items.reduce((m, v) => (compare(m, v) >= 0 ? v : m));
  });
  def(r, 'sort', 1, ([x]) => {
    if (x instanceof RegoSet) return [...x.sorted()];
    return [...itemsOf(x!)].sort(compare);
  });
  def(r, 'internal.member_2', 2, ([x, c]) => {
    if (c instanceof RegoSet) return c.has(x!);
    if (Array.isArray(c)) return (c as readonly Value[]).some((e) => equal(e, x!));
    if (c instanceof RegoObject) {
      for (const v of c.values()) if (equal(v, x!)) return true;
    }
    return false;
  });
  def(r, 'internal.member_3', 3, ([k, v, c]) => {
    if (c instanceof RegoSet) return c.has(k!) && equal(k!, v!);
    if (c instanceof RegoObject) {
      const got = c.get(k!);
      return got !== undefined && equal(got, v!);
    }
    if (Array.isArray(c)) {
      const arr = c as readonly Value[];
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= arr.length) return false;
      return equal(arr[k]!, v!);
    }
    return false;
  });
}
