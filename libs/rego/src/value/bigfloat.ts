/**
 * Go's big.Float at its default 64-bit mantissa, which OPA uses for every arithmetic
 * operation that is not on integers. Emulating it matters for decisions, not only for
 * printing: in OPA `0.1 + 0.2 == 0.3` holds (the 64-bit sum rounds to the same value as
 * 0.3), while in doubles it does not.
 *
 * A value is sign * mant * 2^exp with mant < 2^64 (0 for zero). Operands enter as decimal
 * text (OPA parses the number's text; we use the shortest text of the double, which is the
 * literal the double came from) and results leave as the shortest decimal text that
 * identifies the 64-bit value (big.Float.Text('g', -1)), which the caller parses back.
 */

const PREC = 64;

interface BF {
  readonly neg: boolean;
  readonly mant: bigint; // 0 or in [2^63, 2^64)
  readonly exp: number;
}

const ZERO: BF = { neg: false, mant: 0n, exp: 0 };

function bitLen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Rounds num/den (positive rationals, den > 0) to a 64-bit mantissa, half to even. */
function roundRational(neg: boolean, num: bigint, den: bigint): BF {
  if (num === 0n) return ZERO;
  // Choose e so that q = floor(num * 2^-e / den) has exactly PREC bits.
  let e = bitLen(num) - bitLen(den) - PREC;
  let q: bigint;
  let r: bigint;
  let scaledDen: bigint;
  for (;;) {
    const n = e >= 0 ? num : num << BigInt(-e);
    scaledDen = e >= 0 ? den << BigInt(e) : den;
    q = n / scaledDen;
    r = n % scaledDen;
    const bl = bitLen(q);
    if (bl === PREC) break;
    e += bl > PREC ? 1 : -1;
  }
  // Round half to even on the remainder.
  const twice = r * 2n;
  if (twice > scaledDen || (twice === scaledDen && (q & 1n) === 1n)) {
    q += 1n;
    if (bitLen(q) > PREC) {
      q >>= 1n;
      e += 1;
    }
  }
  return { neg, mant: q, exp: e };
}

/** Exact decimal text (JSON number syntax) to a 64-bit big float. */
function fromText(text: string): BF {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new RangeError(`not a number: ${text}`);
  const [, sign, int, frac = '', e = '0'] = m;
  const digits = BigInt(int! + frac);
  const exp10 = Number(e) - frac.length;
  const [num, den] = exp10 >= 0 ? [digits * 10n ** BigInt(exp10), 1n] : [digits, 10n ** BigInt(-exp10)];
  return roundRational(sign === '-', num, den);
}

/** value as an exact rational num/den. */
function toRational(x: BF): [bigint, bigint] {
  const n = x.neg ? -x.mant : x.mant;
  return x.exp >= 0 ? [n << BigInt(x.exp), 1n] : [n, 1n << BigInt(-x.exp)];
}

function fromRational(num: bigint, den: bigint): BF {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  return roundRational(num < 0n, num < 0n ? -num : num, den);
}

function add(a: BF, b: BF): BF {
  const [an, ad] = toRational(a);
  const [bn, bd] = toRational(b);
  return fromRational(an * bd + bn * ad, ad * bd);
}

function mul(a: BF, b: BF): BF {
  const [an, ad] = toRational(a);
  const [bn, bd] = toRational(b);
  return fromRational(an * bn, ad * bd);
}

function quo(a: BF, b: BF): BF {
  const [an, ad] = toRational(a);
  const [bn, bd] = toRational(b);
  return fromRational(an * bd, ad * bn);
}

/**
 * Shortest decimal that rounds back to x at 64-bit precision (Go's roundShortest): the
 * fewest significant digits whose value lies strictly inside x's rounding interval
 * (inclusive when the mantissa is even).
 */
function toText(x: BF): string {
  if (x.mant === 0n) return '0';
  // Interval [x - ulp/2, x + ulp/2] with ulp = 2^exp; work in units of 2^(exp-1).
  const scale = x.exp - 1;
  const mid = x.mant * 2n;
  const lo = mid - 1n;
  const hi = mid + 1n;
  const inclusive = (x.mant & 1n) === 0n;
  // v = mid * 2^scale. Digits: find k with 10^(k-1) <= v < 10^k.
  const pow2 = (v: bigint, s: number): [bigint, bigint] => (s >= 0 ? [v << BigInt(s), 1n] : [v, 1n << BigInt(-s)]);
  const [vn, vd] = pow2(mid, scale);
  let k = vn.toString().length - vd.toString().length;
  while (cmpFrac(vn, vd, 10n, k) >= 0) k++;
  while (cmpFrac(vn, vd, 10n, k - 1) < 0) k--;
  const [lon, lod] = pow2(lo, scale);
  const [hin, hid] = pow2(hi, scale);
  for (let digits = 1; digits <= 40; digits++) {
    // Candidate: round(v / 10^(k - digits)) * 10^(k - digits)
    const sh = k - digits;
    const [cn, cd] = sh >= 0 ? [vn, vd * 10n ** BigInt(sh)] : [vn * 10n ** BigInt(-sh), vd];
    let q = cn / cd;
    const r = cn % cd;
    if (r * 2n > cd || (r * 2n === cd && (q & 1n) === 1n)) q += 1n;
    // candidate value = q * 10^sh; check lo < c < hi (or <=).
    const [qn, qd] = sh >= 0 ? [q * 10n ** BigInt(sh), 1n] : [q, 10n ** BigInt(-sh)];
    const aboveLo = compareRat(qn, qd, lon, lod);
    const belowHi = compareRat(qn, qd, hin, hid);
    if ((inclusive ? aboveLo >= 0 : aboveLo > 0) && (inclusive ? belowHi <= 0 : belowHi < 0)) {
      return (x.neg ? '-' : '') + formatDigits(q.toString(), sh);
    }
  }
  return (x.neg ? '-' : '') + formatDigits(((vn * 10n ** 40n) / vd).toString(), -40);
}

function compareRat(an: bigint, ad: bigint, bn: bigint, bd: bigint): number {
  const l = an * bd;
  const r = bn * ad;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Compares vn/vd with base^k. */
function cmpFrac(vn: bigint, vd: bigint, base: bigint, k: number): number {
  return k >= 0 ? compareRat(vn, vd, base ** BigInt(k), 1n) : compareRat(vn, vd, 1n, base ** BigInt(-k));
}

/**
 * `digits` without its trailing zeros. A loop, not `replace(/0+$/, '')`: that RegExp retries
 * from every zero of an inner run, quadratic in the long digit strings input can carry.
 */
export function trimTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 0x30) end--;
  return digits.slice(0, end);
}

/** digits * 10^sh as plain JSON-number text (exponent form when very large/small). */
function formatDigits(digits: string, sh: number): string {
  const d = trimTrailingZeros(digits);
  const s = sh + (digits.length - d.length);
  if (d === '') return '0';
  if (s >= 0) return s > 40 ? `${d}e${s}` : d + '0'.repeat(s);
  const point = d.length + s;
  if (point > 0) return `${d.slice(0, point)}.${d.slice(point)}`;
  if (point > -20) return `0.${'0'.repeat(-point)}${d}`;
  return `${d}e${s}`;
}

export type FloatOp = 'add' | 'sub' | 'mul' | 'quo';

/**
 * Applies an arithmetic operation as OPA does on non-integers and returns the result's
 * decimal text. Operands are decimal texts.
 */
export function floatOp(op: FloatOp, a: string, b: string): string {
  const x = fromText(a);
  const y = fromText(b);
  switch (op) {
    case 'add':
      return toText(add(x, y));
    case 'sub':
      return toText(add(x, { ...y, neg: !y.neg && y.mant !== 0n }));
    case 'mul':
      return toText(mul(x, y));
    case 'quo':
      return toText(quo(x, y));
  }
}
