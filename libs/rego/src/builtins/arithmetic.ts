/** OPA v1/topdown/arithmetic.go: + - * / % abs round ceil floor (exact on integers). */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, numberArg, typeErr } from './utils';
import {
  ArithmeticError,
  BigNum,
  RegoSet,
  numAbs,
  numAdd,
  numDiv,
  numMul,
  numRem,
  numSub,
  numRound,
  type NumberValue,
} from '../value';

/** Arithmetic failures (divide by zero, ...) are eval_builtin_error in OPA. */
function guarded(f: (a: NumberValue, b: NumberValue) => NumberValue) {
  return (a: NumberValue, b: NumberValue): NumberValue => {
    try {
      return f(a, b);
    } catch (e) {
      if (e instanceof ArithmeticError) throw new BuiltinError(e.message);
      throw e;
    }
  };
}


export function register(r: BuiltinRegistry): void {
  const binary = (name: string, f: (a: NumberValue, b: NumberValue) => NumberValue): void =>
    def(r, name, 2, (args) => guarded(f)(numberArg(args, 0), numberArg(args, 1)));
  binary('plus', numAdd);
  binary('mul', numMul);
  binary('div', numDiv);
  binary('rem', numRem);
  def(r, 'minus', 2, ([a, b]) => {
    const an = typeof a === 'number' || a instanceof BigNum;
    const bn = typeof b === 'number' || b instanceof BigNum;
    if (an && bn) return numSub(a, b);
    if (a instanceof RegoSet && b instanceof RegoSet) return a.diff(b);
    if (!an && !(a instanceof RegoSet)) throw typeErr(1, a!, 'number', 'set');
    if (bn) throw typeErr(2, b!, 'set');
    throw typeErr(2, b!, 'number');
  });
  def(r, 'abs', 1, (args) => numAbs(numberArg(args, 0)));
  // Go rounds half away from zero (arithRound); JS Math.round would round half up.
  def(r, 'round', 1, (args) => numRound(numberArg(args, 0), 'round'));
  def(r, 'ceil', 1, (args) => numRound(numberArg(args, 0), 'ceil'));
  def(r, 'floor', 1, (args) => numRound(numberArg(args, 0), 'floor'));
}

