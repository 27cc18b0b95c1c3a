/** OPA v1/topdown/numbers.go: numbers.range, numbers.range_step, rand.intn. */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { bigIntArg, def, intArg, stringArg } from './utils';
import { fromBigInt, type Value } from '../value';

/** Ranges are materialised: refuse absurd sizes rather than exhausting memory. */
const MAX_RANGE = 10_000_000n;

function range(a: bigint, b: bigint, step: bigint): Value[] {
  const n = (a <= b ? b - a : a - b) / step + 1n;
  if (n > MAX_RANGE) throw new BuiltinError('range too large');
  const out: Value[] = [];
  if (a <= b) for (let x = a; x <= b; x += step) out.push(fromBigInt(x));
  else for (let x = a; x >= b; x -= step) out.push(fromBigInt(x));
  return out;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'numbers.range', 2, (args) => range(bigIntArg(args, 0), bigIntArg(args, 1), 1n));
  def(r, 'numbers.range_step', 3, (args) => {
    const a = bigIntArg(args, 0);
    const b = bigIntArg(args, 1);
    const step = bigIntArg(args, 2);
    if (step <= 0n) throw new BuiltinError('step must be a positive integer');
    return range(a, b, step);
  });
  def(
    r,
    'rand.intn',
    2,
    (args, ctx) => {
      const key = stringArg(args, 0);
      let n = intArg(args, 1);
      if (n === 0) return 0;
      if (n < 0) n = -n;
      // Same arguments within one query give the same answer (OPA caches per query).
      const cacheKey = `rand.intn\u0000${key}\u0000${n}`;
      const hit = ctx.cache.get(cacheKey);
      if (typeof hit === 'number') return hit;
      const v = Math.floor(Math.random() * n);
      ctx.cache.set(cacheKey, v);
      return v;
    },
    { nondeterministic: true },
  );
}
