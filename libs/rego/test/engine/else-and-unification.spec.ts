import { describe, expect, it } from 'vitest';
import { compileModules, RegoError } from '../../src/index';

function query(source: string, q: string, input?: unknown): unknown[] {
  return compileModules([{ file: 'x.rego', source }]).query(q, { input });
}

function compileError(source: string): RegoError {
  try {
    compileModules([{ file: 'x.rego', source }]);
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error('compiled without an error');
}

describe('else on rules with ref heads', () => {
  const chain = `package t
a.b.c := "big" if {
  input.n > 10
} else := "some" if {
  input.n > 0
} else := "none"
`;

  it('takes the first clause that holds, at the ref head', () => {
    expect(query(chain, 'x := data.t.a.b.c', { n: 11 })).toEqual([{ x: 'big' }]);
    expect(query(chain, 'x := data.t.a.b.c', { n: 3 })).toEqual([{ x: 'some' }]);
    expect(query(chain, 'x := data.t.a', { n: -1 })).toEqual([{ x: { b: { c: 'none' } } }]);
  });

  it('accepts else on the next line and one-line bodies', () => {
    const src = 'package t\na.b := 1 if input.x\nelse := 2 if input.y\nelse := 3\n';
    expect(query(src, 'x := data.t.a.b', { y: true })).toEqual([{ x: 2 }]);
  });

  it('applies else to a head ending in a ground non-string key', () => {
    expect(query('package t\na.b[1] := "yes" if input.x\nelse := "no"', 'x := data.t.a', {})).toEqual([{ x: { b: { 1: 'no' } } }]);
  });

  it('reads `else.x` at the start of a line as a rule of its own, as OPA does', () => {
    const src = 'package t\na.b := 1 if input.x\nelse.c := 2\n';
    expect(query(src, 'x := data.t', { x: true })).toEqual([{ x: { a: { b: 1 }, else: { c: 2 } } }]);
  });

  it('refuses else on a partial object rule (a variable in the head) with OPA message', () => {
    const err = compileError('package t\na.b[k] := 1 if {\n  some k in input.ks\n} else := 2\n');
    expect(err.code).toBe('rego_parse_error');
    expect(err.message).toBe('else keyword cannot be used on rules with variables in head');
    expect(err.location?.row).toBe(4);
  });

  it('refuses else on partial set rules, plain and ref-headed, with OPA message', () => {
    for (const head of ['s', 'a.b']) {
      const err = compileError(`package t\n${head} contains x if {\n  some x in input.xs\n} else := 2\n`);
      expect(err.code).toBe('rego_parse_error');
      expect(err.message).toBe('else keyword cannot be used on multi-value rules');
    }
  });
});

describe('safety of unification (OPA ast/unify.go)', () => {
  it('pairs object values by key, whatever the order they are written in', () => {
    expect(query('package t\np := [x, y] if { {"a": x, "b": 1} = {"b": y, "a": 2} }', 'r := data.t.p')).toEqual([{ r: [2, 1] }]);
  });

  it('binds a var unified with another unbound var once a later element binds that one', () => {
    expect(query('package t\np := [x, y] if { [x, y] = [y, 1] }', 'r := data.t.p')).toEqual([{ r: [1, 1] }]);
    expect(query('package t\np := [x, y] if { {"a": [x, 1]} = {"a": [y, y]} }', 'r := data.t.p')).toEqual([{ r: [1, 1] }]);
  });

  it('still reports vars that nothing binds', () => {
    const err = compileError('package t\np := [x, y] if { [x, y] = [y, x] }');
    expect(err.code).toBe('rego_unsafe_var_error');
    expect(err.errors.map((d) => d.message)).toContain('var x is unsafe');
  });

  it('still reports a value whose key does not pair with any key on the other side', () => {
    const err = compileError('package t\np := v if { {"a": v} = {"b": 1} }');
    expect(err.code).toBe('rego_unsafe_var_error');
    expect(err.errors.map((d) => d.message)).toContain('var v is unsafe');
  });
});

describe('numbers.range_step', () => {
  it.each([0, -2])('refuses step %d with OPA message', (step) => {
    const ps = compileModules([], { strictBuiltinErrors: true });
    let err: unknown;
    try {
      ps.query(`x := numbers.range_step(1, 5, ${step})`, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegoError);
    expect((err as RegoError).code).toBe('eval_builtin_error');
    expect((err as RegoError).message).toBe('numbers.range_step: step must be a positive integer');
  });
});
