import { describe, expect, it } from 'vitest';
import { compileModules, modulePackagePath, RegoError } from '../../src/index';

/** Parser and compiler checks through the public facade: what compiles, and which error. */
const accepted: ReadonlyArray<readonly [string, string]> = [
  ['if with single literal', 'package t\np if input.x > 1'],
  ['contains', 'package t\nxs contains x if some x in [1, 2]'],
  ['ref head', 'package t\na.b[k] := 1 if some k in ["x"]'],
  ['else chain', 'package t\nf(x) := "a" if x == 1\nelse := "b"'],
  ['every', 'package t\np if every x in [1] { x > 0 }'],
  ['comprehensions', 'package t\np := {k: v | some k, v in {"a": 1}}\nq := [x | x := 1]\nr := {x | x := 1}'],
  ['keyword ref', 'package t\nfoo.not := 1\np if data.t.foo.not == 1'],
  ['raw string and with', 'package t\np if input.x == `a\\b` with input as {"x": "a\\\\b"}'],
  ['imports', 'package t\nimport rego.v1\nimport data.lib.x as y\np := y'],
];

const rejected: ReadonlyArray<readonly [string, string, string]> = [
  ['v0 body without if', 'package t\np { true }', 'rego_parse_error'],
  ['unterminated string', 'package t\np := "abc', 'rego_parse_error'],
  ['unsafe var', 'package t\np if x > 1', 'rego_unsafe_var_error'],
  ['unsafe head var', 'package t\np := y if true', 'rego_unsafe_var_error'],
  ['recursion', 'package t\np if q\nq if p', 'rego_recursion_error'],
  ['undefined function', 'package t\np := nope(1)', 'rego_type_error'],
  ['conflicting kinds', 'package t\np := 1\np contains 2', 'rego_type_error'],
  ['double assign', 'package t\np if { x := 1; x := 2 }', 'rego_compile_error'],
  ['multiple defaults', 'package t\ndefault p := 1\ndefault p := 2', 'rego_type_error'],
  ['unused some declaration', 'package t\np if { some x; true }', 'rego_compile_error'],
  ['assign after use', 'package t\np if { x = 1; x := 2 }', 'rego_compile_error'],
  ['with on an unknown target', 'package t\np if { true with foo.bar as 1 }', 'rego_compile_error'],
  ['wrong builtin arity', 'package t\np := count(1, 2, 3)', 'rego_type_error'],
];

describe('parser and compiler', () => {
  it.each(accepted)('accepts %s', (_name, src) => {
    expect(() => compileModules([{ file: 'x.rego', source: src }])).not.toThrow();
  });

  it.each(rejected)('rejects %s', (_name, src, code) => {
    let err: unknown;
    try {
      compileModules([{ file: 'x.rego', source: src }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegoError);
    expect((err as RegoError).code).toBe(code);
    expect((err as RegoError).errors[0]!.location?.file).toBe('x.rego');
  });

  it('reports row and column of a parse error', () => {
    try {
      compileModules([{ file: 'a.rego', source: 'package t\n\np := [1,\n' }]);
      expect.unreachable();
    } catch (e) {
      expect((e as RegoError).code).toBe('rego_parse_error');
      expect((e as RegoError).location?.row).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('modulePackagePath', () => {
  it('reads the package below data as the compiler does, in v1 and v0', () => {
    expect(modulePackagePath('# lead\npackage data.a.b["c d"]\n\np := 1\n', 'f.rego')).toEqual(['a', 'b', 'c d']);
    expect(modulePackagePath('package x.y\n\np { true }\n', 'v0.rego', 'v0')).toEqual(['x', 'y']);
  });

  it('throws the parse error a compile would', () => {
    expect(() => modulePackagePath('package a.\n', 'bad.rego')).toThrow(RegoError);
  });
});
