/** OPA v1/topdown/casts.go: to_number. */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { decimalToNumber, parseDecimal } from './decimal';
import { def, operandErr, typeErr } from './utils';
import { BigNum } from '../value';

export function register(r: BuiltinRegistry): void {
  def(r, 'to_number', 1, ([x]) => {
    if (x === null) return 0;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'number' || x instanceof BigNum) return x;
    if (typeof x === 'string') {
      // Go's ParseFloat accepts inf/nan, which are not Rego numbers.
      if (/^[+-]?(inf|infinity|nan)$/i.test(x)) throw operandErr(1, 'must be a valid number string');
      const d = parseDecimal(x);
      if (!d) throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(x)}: invalid syntax`);
      return decimalToNumber(d);
    }
    throw typeErr(1, x!, 'null', 'boolean', 'number', 'string');
  });
}
