/** Calls built-ins the way the evaluator does, with operands and answers as JSON text. */
import { expect } from 'vitest';
import { callBuiltin, createBuiltinContext, createBuiltinRegistry, type BuiltinContext } from '../../src/builtins';
import { RegoError } from '../../src/errors';
import { equal, parseJSON, toJSONText, type Value } from '../../src/value';

export const registry = createBuiltinRegistry();

/** 2023-11-14T22:13:20Z: fixed so time-dependent answers are stable. */
export const ctx: BuiltinContext = createBuiltinContext({ timeNs: 1_700_000_000_000_000_000n, env: { HOME: '/root' } });

export function call(name: string, args: readonly Value[], c: BuiltinContext = ctx): Value | undefined {
  const def = registry.get(name);
  if (!def) throw new Error(`no built-in ${name}`);
  return callBuiltin(def, args, c);
}

/** A table row: built-in, operands (JSON), and the expected output (JSON), error or undefined. */
export type Row =
  | readonly [name: string, args: string, want: string]
  | readonly [name: string, args: string, want: { error: string; code?: string }]
  | readonly [name: string, args: string, want: 'undefined'];

export function check([name, args, want]: Row): void {
  const operands = parseJSON(args) as Value[];
  if (typeof want === 'object') {
    let err: unknown;
    try {
      call(name, operands);
    } catch (e) {
      err = e;
    }
    expect(err, `${name}${args} should fail`).toBeInstanceOf(RegoError);
    expect((err as RegoError).message).toContain(want.error);
    if (want.code) expect((err as RegoError).code).toBe(want.code);
    return;
  }
  const got = call(name, operands);
  if (want === 'undefined') {
    expect(got).toBeUndefined();
    return;
  }
  expect(got, `${name}${args}`).toBeDefined();
  const wantV = parseJSON(want);
  if (!equal(got!, wantV)) expect(toJSONText(got!)).toBe(toJSONText(wantV));
}

export const rowName = (r: Row): string => `${r[0]}(${r[1].slice(1, -1).slice(0, 60)})`;
