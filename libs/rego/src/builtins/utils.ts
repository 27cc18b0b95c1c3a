/**
 * Shared operand guards, mirroring OPA v1/topdown/builtins/builtins.go so error messages
 * match OPA's word for word. Positions are 1-based, as in OPA's messages.
 */
import type { BuiltinContext, BuiltinDef, BuiltinFn, BuiltinRegistry } from './registry';
import { OperandError } from './registry';
import {
  BigNum,
  RegoObject,
  RegoSet,
  toBigInt,
  typeName,
  type NumberValue,
  type Value,
} from '../value';

export function operandErr(pos: number, message: string): OperandError {
  return new OperandError(`operand ${pos} ${message}`);
}

/** "operand 1 must be string but got number" / "must be one of {a, b} but got c". */
export function typeErr(pos: number, got: Value, ...expected: string[]): OperandError {
  if (expected.length === 1) return operandErr(pos, `must be ${expected[0]} but got ${typeName(got)}`);
  return operandErr(pos, `must be one of {${expected.join(', ')}} but got ${typeName(got)}`);
}

/** "operand 1 must be array of strings but got array containing number". */
export function elemErr(pos: number, composite: Value, got: Value, ...expected: string[]): OperandError {
  const t = typeName(composite);
  if (expected.length === 1) {
    return operandErr(pos, `must be ${t} of ${expected[0]}s but got ${t} containing ${typeName(got)}`);
  }
  return operandErr(pos, `must be ${t} of (any of) {${expected.join(', ')}} but got ${t} containing ${typeName(got)}`);
}

export function stringArg(args: readonly Value[], i: number): string {
  const v = args[i]!;
  if (typeof v !== 'string') throw typeErr(i + 1, v, 'string');
  return v;
}

export function numberArg(args: readonly Value[], i: number): NumberValue {
  const v = args[i]!;
  if (typeof v !== 'number' && !(v instanceof BigNum)) throw typeErr(i + 1, v, 'number');
  return v;
}

/** IntOperand: a JS integer; big or fractional numbers are rejected as OPA's int conversion does. */
export function intArg(args: readonly Value[], i: number): number {
  const v = numberArg(args, i);
  if (typeof v !== 'number') throw operandErr(i + 1, 'must be integer number but got floating-point number');
  if (!Number.isInteger(v)) throw operandErr(i + 1, 'must be integer number but got floating-point number');
  return v;
}

/** BigIntOperand: exact integer of any size (note OPA says 'integer' for a non-number). */
export function bigIntArg(args: readonly Value[], i: number): bigint {
  const v = args[i]!;
  if (typeof v !== 'number' && !(v instanceof BigNum)) throw typeErr(i + 1, v, 'integer');
  const b = toBigInt(v);
  if (b === undefined) throw operandErr(i + 1, 'must be integer number but got floating-point number');
  return b;
}

export function booleanArg(args: readonly Value[], i: number): boolean {
  const v = args[i]!;
  if (typeof v !== 'boolean') throw typeErr(i + 1, v, 'boolean');
  return v;
}

export function objectArg(args: readonly Value[], i: number): RegoObject {
  const v = args[i]!;
  if (!(v instanceof RegoObject)) throw typeErr(i + 1, v, 'object');
  return v;
}

export function arrayArg(args: readonly Value[], i: number): readonly Value[] {
  const v = args[i]!;
  if (!Array.isArray(v)) throw typeErr(i + 1, v, 'array');
  return v as readonly Value[];
}

export function setArg(args: readonly Value[], i: number): RegoSet {
  const v = args[i]!;
  if (!(v instanceof RegoSet)) throw typeErr(i + 1, v, 'set');
  return v;
}

/** Elements of an array or set (sets in sorted order, as OPA iterates them). */
export function collectionItems(v: Value): readonly Value[] | undefined {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RegoSet) return v.sorted();
  return undefined;
}

/** StringSliceOperand: array or set of strings. */
export function stringsArg(args: readonly Value[], i: number): string[] {
  const v = args[i]!;
  const items = collectionItems(v);
  if (!items) throw typeErr(i + 1, v, 'array', 'set');
  return items.map((x) => {
    if (typeof x !== 'string') throw elemErr(i + 1, v, x, 'string');
    return x;
  });
}

/** Short form for registering a plain function. */
export function def(
  registry: BuiltinRegistry,
  name: string,
  arity: number,
  fn: BuiltinFn,
  extra: Partial<Omit<BuiltinDef, 'name' | 'arity' | 'fn'>> = {},
): void {
  registry.register({ name, arity, fn, ...extra });
}

export type { BuiltinContext };

/** Iterates the code points of a string (Go's rune semantics). */
export function runes(s: string): string[] {
  return Array.from(s);
}
