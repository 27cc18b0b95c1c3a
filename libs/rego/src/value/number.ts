/**
 * Numbers. OPA keeps numbers as decimal text and computes on big.Int / big.Float; we keep
 * the common case cheap: a JS `number` holds every safe integer and every non-integer
 * double, and a `BigNum` holds integers outside the safe range exactly (as a bigint).
 *
 * Invariant (so that `===` is equality for JS numbers and key functions stay simple):
 *  - an integer with |n| <= 2^53-1 is ALWAYS a JS number, never a BigNum;
 *  - a BigNum never holds a safe integer;
 *  - -0 is normalised to 0.
 */
export class BigNum {
  /**
   * @param int the exact digits: the value is int / 10^scale
   * @param text the literal it was parsed from when that was not plain digits (`1e30`,
   *   `0.1234567890123456789`): OPA prints numbers as their literal text
   * @param scale 0 for integers; > 0 for decimals a double cannot hold exactly
   */
  constructor(
    readonly int: bigint,
    readonly text?: string,
    readonly scale: number = 0,
  ) {}
  toString(): string {
    return this.text ?? canonicalNumberText(this);
  }
}

/** Normalised decimal text of a BigNum (equal values, equal text). */
export function canonicalNumberText(n: BigNum): string {
  if (n.scale === 0) return n.int.toString();
  const neg = n.int < 0n;
  const digits = (neg ? -n.int : n.int).toString();
  const sign = neg ? '-' : '';
  if (digits.length > n.scale) return `${sign}${digits.slice(0, digits.length - n.scale)}.${digits.slice(digits.length - n.scale)}`;
  if (n.scale - digits.length < 20) return `${sign}0.${'0'.repeat(n.scale - digits.length)}${digits}`;
  const e = digits.length - 1 - n.scale;
  return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${e}`;
}

export type NumberValue = number | BigNum;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Normalises a bigint into the canonical representation. */
export function fromBigInt(b: bigint, text?: string): NumberValue {
  return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : new BigNum(b, text);
}

/**
 * Normalises a double into the canonical representation. Integer-valued doubles beyond the
 * safe range become exact bigints of the double's value. Non-finite values are rejected:
 * OPA numbers are always finite.
 */
export function fromDouble(x: number): NumberValue {
  if (!Number.isFinite(x)) throw new RangeError(`non-finite number ${x}`);
  if (x === 0) return 0;
  if (Number.isInteger(x) && !Number.isSafeInteger(x)) return new BigNum(BigInt(x));
  return x;
}

export function isNumber(v: unknown): v is NumberValue {
  return typeof v === 'number' || v instanceof BigNum;
}

export function isIntegerNumber(n: NumberValue): boolean {
  return typeof n === 'number' ? Number.isInteger(n) : n.scale === 0;
}

/** Exact bigint of an integer number, or undefined for a non-integer. */
export function toBigInt(n: NumberValue): bigint | undefined {
  if (typeof n === 'number') return Number.isInteger(n) ? BigInt(n) : undefined;
  return n.scale === 0 ? n.int : undefined;
}

/** Nearest double (lossy for BigNum). */
export function toDouble(n: NumberValue): number {
  if (typeof n === 'number') return n;
  return n.scale === 0 ? Number(n.int) : Number(canonicalNumberText(n));
}

/** Safe JS integer, or undefined when the number is not an integer or not in the safe range. */
export function toSafeInt(n: NumberValue): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const DECIMAL_PARTS = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Exact value of a number literal as digits * 10^exp, digits without trailing zeros. */
function exactDecimal(text: string): { mant: bigint; exp: number } {
  const [, sign, int = '', frac = '', e = '0'] = DECIMAL_PARTS.exec(text)!;
  let digits = (int + frac).replace(/^0+(?=\d)/, '');
  let exp = Number(e) - frac.length;
  if (/^0+$/.test(digits)) return { mant: 0n, exp: 0 };
  const stripped = trimTrailingZeros(digits);
  exp += digits.length - stripped.length;
  digits = stripped;
  const mant = BigInt(digits);
  return { mant: sign === '-' ? -mant : mant, exp };
}

/**
 * Parses a JSON/Rego number literal exactly, as OPA keeps it: a JS number when a double
 * holds the literal's value (its shortest text denotes the same decimal), an exact integer
 * BigNum beyond 2^53, an exact decimal BigNum otherwise (`0.1234567890123456789`,
 * `1e-400`). Returns undefined for text that is not a JSON number.
 */
export function parseNumber(text: string): NumberValue | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  // Fast path: up to 15 significant digits and a modest exponent always round-trip.
  if (text.length <= 16 && !/[eE]/.test(text)) {
    const x = Number(text);
    if (Number.isSafeInteger(x) || !Number.isInteger(x)) return x === 0 ? 0 : x;
  }
  const { mant, exp } = exactDecimal(text);
  if (mant === 0n) return 0;
  const plain = /^-?\d+$/.test(text) ? undefined : text;
  if (exp >= 0) {
    if (exp > 100_000) return undefined;
    return fromBigInt(mant * 10n ** BigInt(exp), plain);
  }
  if (exp < -100_000) return undefined;
  const x = Number(text);
  if (Number.isFinite(x) && x !== 0) {
    const back = exactDecimal(String(x).replace('e+', 'e'));
    if (back.mant === mant && back.exp === exp) return x;
  }
  return new BigNum(mant, text, -exp);
}

/**
 * Text of a number as OPA prints a computed number: integers in full, other numbers in
 * Go's shortest `%g` spelling (`1e-07`, `1.5e+300`), which JSON readers accept as well.
 */
export function numberToString(n: NumberValue): string {
  if (typeof n !== 'number') return n.toString();
  if (Number.isInteger(n)) return String(n);
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JS writes 1e-7 / 1e+21; Go writes at least two exponent digits: 1e-07 / 1e+21.
  const mant = s.slice(0, e);
  const sign = s[e + 1];
  const digits = s.slice(e + 2);
  return `${mant}e${sign}${digits.length < 2 ? '0' + digits : digits}`;
}

function decimalOf(n: NumberValue): { mant: bigint; exp: number } {
  if (typeof n === 'number') return exactDecimal(String(n).replace('e+', 'e'));
  return { mant: n.int, exp: -n.scale };
}

export function compareNumbers(a: NumberValue, b: NumberValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a !== 'number' && typeof b !== 'number' && a.scale === 0 && b.scale === 0) {
    return a.int < b.int ? -1 : a.int > b.int ? 1 : 0;
  }
  if ((typeof a === 'number' || a.scale === 0) && (typeof b === 'number' || b.scale === 0)) {
    // Exactly one is a big integer: its magnitude exceeds every safe integer and every
    // non-integer double, so its sign decides.
    const big = (typeof a === 'number' ? b : a) as BigNum;
    const sign = big.int > 0n ? 1 : -1;
    return typeof a !== 'number' ? sign : -sign;
  }
  // A decimal beyond doubles: compare the exact decimals.
  const x = decimalOf(a);
  const y = decimalOf(b);
  const e = Math.min(x.exp, y.exp);
  const xs = x.mant * 10n ** BigInt(x.exp - e);
  const ys = y.mant * 10n ** BigInt(y.exp - e);
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

export function numbersEqual(a: NumberValue, b: NumberValue): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a.int === b.int && a.scale === b.scale;
}

// ---- arithmetic (OPA v1/topdown/arithmetic.go: exact on integers, floats otherwise) ----

/** Small dyadic rationals (k/1024, |x| < 2^16): doubles hold them and their sums exactly. */
function smallDyadic(x: number): boolean {
  const s = x * 1024;
  return Number.isInteger(s) && Math.abs(s) < 2 ** 26;
}

function decimalText(n: NumberValue): string {
  return typeof n === 'number' ? String(n) : canonicalNumberText(n);
}

/** Policies repeat the same few operations (a price times a rate): remember answers. */
const floatCache = new Map<string, NumberValue>();
const FLOAT_CACHE_MAX = 4096;

/** A non-integer operation as OPA performs it: on 64-bit-mantissa big floats. */
function viaBigFloat(op: FloatOp, a: NumberValue, b: NumberValue): NumberValue {
  const at = decimalText(a);
  const bt = decimalText(b);
  const key = `${op} ${at} ${bt}`;
  const hit = floatCache.get(key);
  if (hit !== undefined) return hit;
  const text = floatOp(op, at, bt);
  const n = parseNumber(text);
  if (n === undefined) throw new ArithmeticError(`number out of range: ${text}`);
  if (floatCache.size >= FLOAT_CACHE_MAX) floatCache.clear();
  floatCache.set(key, n);
  return n;
}

export function numAdd(a: NumberValue, b: NumberValue): NumberValue {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
    if (smallDyadic(a) && smallDyadic(b)) return fromDouble(r);
  }
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x !== undefined && y !== undefined) return fromBigInt(x + y);
  return viaBigFloat('add', a, b);
}

export function numSub(a: NumberValue, b: NumberValue): NumberValue {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
    if (smallDyadic(a) && smallDyadic(b)) return fromDouble(r);
  }
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x !== undefined && y !== undefined) return fromBigInt(x - y);
  return viaBigFloat('sub', a, b);
}

export function numMul(a: NumberValue, b: NumberValue): NumberValue {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
    // Scaled operands below 2^26 each: the product is exact in a double.
    if (smallDyadic(a) && smallDyadic(b)) return fromDouble(r);
  }
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x !== undefined && y !== undefined) return fromBigInt(x * y);
  return viaBigFloat('mul', a, b);
}

/** Division; throws 'divide by zero' (OPA's message) for a zero divisor. */
export function numDiv(a: NumberValue, b: NumberValue): NumberValue {
  if (isZero(b)) throw new ArithmeticError('divide by zero');
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x !== undefined && y !== undefined && x !== 0n && x % y === 0n) return fromBigInt(x / y);
  return viaBigFloat('quo', a, b);
}

/** Remainder (Go semantics: sign of the dividend); integers only. */
export function numRem(a: NumberValue, b: NumberValue): NumberValue {
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x === undefined || y === undefined) throw new ArithmeticError('modulo on floating-point number');
  if (y === 0n) throw new ArithmeticError('modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') return fromDouble(a % b);
  return fromBigInt(x % y);
}

export function numNeg(a: NumberValue): NumberValue {
  if (typeof a === 'number') return fromDouble(-a);
  if (a.scale === 0) return fromBigInt(-a.int);
  return new BigNum(-a.int, undefined, a.scale);
}

export function numAbs(a: NumberValue): NumberValue {
  if (typeof a === 'number') return fromDouble(Math.abs(a));
  return a.int < 0n ? numNeg(a) : a;
}

/** floor / ceil / round-half-away-from-zero of any number, exactly. */
export function numRound(a: NumberValue, mode: 'floor' | 'ceil' | 'round'): NumberValue {
  if (typeof a === 'number') {
    const r = mode === 'floor' ? Math.floor(a) : mode === 'ceil' ? Math.ceil(a) : a < 0 ? -Math.floor(-a + 0.5) : Math.floor(a + 0.5);
    return fromDouble(r);
  }
  if (a.scale === 0) return a;
  const d = 10n ** BigInt(a.scale);
  const q = a.int / d; // truncated toward zero
  const r = a.int % d;
  if (mode === 'floor') return fromBigInt(r < 0n ? q - 1n : q);
  if (mode === 'ceil') return fromBigInt(r > 0n ? q + 1n : q);
  const twice = (r < 0n ? -r : r) * 2n;
  return fromBigInt(twice >= d ? (a.int < 0n ? q - 1n : q + 1n) : q);
}

export function isZero(n: NumberValue): boolean {
  return n === 0;
}

import { floatOp, trimTrailingZeros, type FloatOp } from './bigfloat';

/** Error raised by number arithmetic; builtins turn it into eval_builtin_error. */
export class ArithmeticError extends Error {
  override name = 'ArithmeticError';
}
