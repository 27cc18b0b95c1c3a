/** OPA v1/topdown/bits.go: bitwise operations on integers of any size. */
import type { BuiltinRegistry } from './registry';
import { bigIntArg, def, operandErr } from './utils';
import { fromBigInt } from '../value';

export function register(r: BuiltinRegistry): void {
  def(r, 'bits.or', 2, (a) => fromBigInt(bigIntArg(a, 0) | bigIntArg(a, 1)));
  def(r, 'bits.and', 2, (a) => fromBigInt(bigIntArg(a, 0) & bigIntArg(a, 1)));
  def(r, 'bits.xor', 2, (a) => fromBigInt(bigIntArg(a, 0) ^ bigIntArg(a, 1)));
  def(r, 'bits.negate', 1, (a) => fromBigInt(~bigIntArg(a, 0)));
  const shift = (a: readonly import('../value').Value[]): [bigint, bigint] => {
    const x = bigIntArg(a, 0);
    const n = bigIntArg(a, 1);
    if (n < 0n) throw operandErr(2, 'must be an unsigned integer number but got a negative integer');
    return [x, n];
  };
  def(r, 'bits.lsh', 2, (a) => {
    const [x, n] = shift(a);
    return fromBigInt(x << n);
  });
  def(r, 'bits.rsh', 2, (a) => {
    const [x, n] = shift(a);
    return fromBigInt(x >> n);
  });
}
