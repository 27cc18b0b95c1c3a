/** OPA v1/topdown/parse_units.go and parse_bytes.go: units.parse, units.parse_bytes. */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { decimalToNumber, decimalTrunc, mulDecimal, parseDecimal, type Decimal } from './decimal';
import { def, stringArg } from './utils';
import { fromBigInt } from '../value';

const pow = (base: bigint, n: number): Decimal => ({ mant: base ** BigInt(n), exp: 0 });

const SI: Record<string, Decimal> = {
  '': { mant: 1n, exp: 0 },
  k: pow(1000n, 1),
  ki: pow(1024n, 1),
  m: pow(1000n, 2),
  mi: pow(1024n, 2),
  g: pow(1000n, 3),
  gi: pow(1024n, 3),
  t: pow(1000n, 4),
  ti: pow(1024n, 4),
  p: pow(1000n, 5),
  pi: pow(1024n, 5),
  e: pow(1000n, 6),
  ei: pow(1024n, 6),
};

const NUM_PREFIX = /^[+-]?[0-9.]*(?:[eE][+-]?[0-9]+)?/;

function split(raw: string): { num: string; unit: string } {
  const x = raw.replace(/"/g, '');
  if (x.includes(' ')) throw new BuiltinError('spaces not allowed in resource strings');
  const m = NUM_PREFIX.exec(x)!;
  // A bare exponent marker with no digits after it is the exa unit, not an exponent.
  return { num: m[0], unit: x.slice(m[0].length) };
}

export function register(r: BuiltinRegistry): void {
  def(r, 'units.parse', 1, (args) => {
    const { num, unit } = split(stringArg(args, 0));
    if (num === '' || num === '+' || num === '-') throw new BuiltinError('no amount provided');
    const amount = parseDecimal(num);
    if (!amount) throw new BuiltinError('could not parse amount to a number');
    // "m" is milli, "M" is mega; everything else is case-insensitive.
    const mult = unit === 'm' ? { mant: 1n, exp: -3 } : SI[unit.toLowerCase()];
    if (!mult) throw new BuiltinError('unit not recognized');
    return decimalToNumber(mulDecimal(amount, mult));
  });
  def(r, 'units.parse_bytes', 1, (args) => {
    const { num, unit } = split(stringArg(args, 0).toLowerCase());
    if (num === '' || num === '+' || num === '-') throw new BuiltinError('no byte amount provided');
    const amount = parseDecimal(num);
    if (!amount) throw new BuiltinError('could not parse byte amount to a number');
    // "kb", "kib" and the bare "k", "ki" mean the same; a lone "b" is bytes.
    const mult = SI[unit.endsWith('b') ? unit.slice(0, -1) : unit];
    if (!mult) throw new BuiltinError('byte unit could not be parsed');
    return fromBigInt(decimalTrunc(mulDecimal(amount, mult)));
  });
}
