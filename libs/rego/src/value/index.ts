/**
 * Runtime values of the Rego engine.
 *
 * Representation (chosen so the common case costs nothing: most policy values are strings,
 * small numbers and objects with string keys):
 *
 *   Rego        JS
 *   null        null
 *   boolean     boolean
 *   string      string
 *   number      number   — every safe integer (|n| <= 2^53-1) and every non-integer double;
 *               BigNum   — an integer outside the safe range, exact, as a bigint.
 *               Canonical: a safe integer is never a BigNum, -0 is 0. So for JS numbers `===`
 *               is equality, and 1 and 1.0 are the same value. Arithmetic (number.ts) is
 *               exact on integers of any size and uses doubles otherwise (OPA uses 64-bit
 *               mantissa big.Float there; last-digit differences on inexact decimals are
 *               possible).
 *   array       readonly Value[]  (plain JS array; never mutate after sharing)
 *   set         RegoSet     (Map keyed by keyOf(value); insertion-order `values()`,
 *                            OPA-order `sorted()`)
 *   object      RegoObject  (keys may be any value; Map keyed by keyOf(key); insertion-order
 *                            `entries()`, OPA-order `sortedEntries()` / `sortedKeys()`)
 *
 * keyOf(v) is the hash key: scalars are their own key, big numbers and composites a canonical
 * string (cached for arrays). compare(a, b) is OPA's total order
 * (null < boolean < number < string < array < object < set; strings by code point as Go does;
 * objects by sorted keys then values; sets by sorted elements). Serialisation (toJSON /
 * toJSONText) sorts object keys and sets like OPA, and renders non-string keys as their JSON.
 * parseJSON keeps long integers exact; fromJSON converts JS values (bigint allowed).
 */
export type { Value, ArrayValue, TypeName, MapKey } from './types';
export {
  BigNum,
  canonicalNumberText,
  numRound,
  ArithmeticError,
  fromBigInt,
  fromDouble,
  isNumber,
  isIntegerNumber,
  toBigInt,
  toDouble,
  toSafeInt,
  parseNumber,
  numberToString,
  compareNumbers,
  numbersEqual,
  numAdd,
  numSub,
  numMul,
  numDiv,
  numRem,
  numNeg,
  numAbs,
} from './number';
export type { NumberValue } from './number';
export { RegoSet } from './set';
export { RegoObject } from './object';
export { keyOf, canonical } from './key';
export { compare, compareStrings, equal, typeName, isArray, isSet, isObject } from './compare';
export { fromJSON, toJSON, toJSONText, parseJSON, objectKeyString } from './json';
export type { JSONValue } from './json';

import { RegoObject } from './object';
import { RegoSet } from './set';
import type { Value } from './types';

/** Constructors, for readability at call sites. */
export const mk = {
  set: (...values: Value[]): RegoSet => new RegoSet(values),
  object: (entries: Iterable<readonly [Value, Value]> = []): RegoObject => new RegoObject(entries),
  record: (rec: Readonly<Record<string, Value>>): RegoObject => RegoObject.fromRecord(rec),
  array: (...values: Value[]): readonly Value[] => values,
};
export { trimTrailingZeros } from './bigfloat';
