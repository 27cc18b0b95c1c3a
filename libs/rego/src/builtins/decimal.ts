/**
 * Exact decimal helpers: OPA computes unit conversions on big.Float/big.Rat, so `1.1Ki` is
 * exactly 1126.4 there; doing the same with doubles would give 1126.4000000000001.
 */
import { fromBigInt, parseNumber, trimTrailingZeros, type NumberValue } from '../value';

/** value = mant * 10^exp */
export interface Decimal {
  readonly mant: bigint;
  readonly exp: number;
}

const DEC = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses Go-float-like text (`.5`, `5.`, `-3.5E2`); undefined when not a decimal number. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DEC.exec(text);
  if (!m) return undefined;
  const [, sign, int = '', frac = '', e = '0'] = m;
  if (int === '' && frac === '') return undefined;
  const digits = (int + frac).replace(/^0+(?=\d)/, '') || '0';
  const mant = BigInt(digits) * (sign === '-' ? -1n : 1n);
  return { mant, exp: Number(e) - frac.length };
}

export function mulDecimal(a: Decimal, b: Decimal): Decimal {
  return { mant: a.mant * b.mant, exp: a.exp + b.exp };
}

export function decimalToString(d: Decimal): string {
  if (d.exp >= 0) return (d.mant * 10n ** BigInt(d.exp)).toString();
  const neg = d.mant < 0n;
  const s = (neg ? -d.mant : d.mant).toString().padStart(-d.exp + 1, '0');
  const cut = s.length + d.exp;
  const frac = trimTrailingZeros(s.slice(cut));
  return (neg ? '-' : '') + s.slice(0, cut) + (frac ? '.' + frac : '');
}

/** Exact when integral, nearest double otherwise. */
export function decimalToNumber(d: Decimal): NumberValue {
  const t = decimalToString(d);
  if (!t.includes('.')) return fromBigInt(BigInt(t));
  return parseNumber(t)!;
}

/** Truncates toward zero. */
export function decimalTrunc(d: Decimal): bigint {
  if (d.exp >= 0) return d.mant * 10n ** BigInt(d.exp);
  return d.mant / 10n ** BigInt(-d.exp);
}
