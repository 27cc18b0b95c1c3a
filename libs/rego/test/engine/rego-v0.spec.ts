import { describe, expect, it } from 'vitest';
import { compileModules, RegoError, type RegoModule, type RegoVersion } from '../../src/index';

/** Rego v0 (OPA's --v0-compatible, a bundle's rego_version 0) beside v1, through the public facade. */
const v0 = (source: string) => compileModules([{ file: 'v0.rego', source }], { regoVersion: 'v0' });
const v1 = (source: string) => compileModules([{ file: 'v1.rego', source }]);
const doc = (source: string, input?: unknown, version: RegoVersion = 'v0') =>
  compileModules([{ file: 'm.rego', source }], { regoVersion: version }).evaluate(['t'], { input });

function compileError(f: () => unknown): RegoError {
  try {
    f();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error('expected a RegoError');
}

describe('v0 rule heads', () => {
  it('reads `p { … }` as a boolean rule and `default p = false` as its default', () => {
    const src = 'package t\ndefault allow = false\nallow { input.user == "alice" }';
    expect(doc(src, { user: 'alice' })).toEqual({ defined: true, result: { allow: true } });
    expect(doc(src, { user: 'bob' })).toEqual({ defined: true, result: { allow: false } });
  });

  it('reads `p[x] { … }`, `p.q { … }` and a bare `p[x]` as partial set rules', () => {
    const src = 'package t\ndeny[msg] { msg := sprintf("bad %v", [input.x]) }\ndeny.fixed { true }\ndeny["bare"]';
    expect(doc(src, { x: 1 })).toEqual({ defined: true, result: { deny: ['bad 1', 'bare', 'fixed'] } });
  });

  it('reads `p[k] = v { … }` as a partial object rule and `f(x) = y { … }` as a function', () => {
    const src = 'package t\nm[k] = v { v := input[k] }\nf(x) = y { y := x * 2 }\ng(x) { x > 0 }\nr = f(2) { g(1) }';
    expect(doc(src, { a: 1 })).toEqual({ defined: true, result: { m: { a: 1 }, r: 4 } });
  });

  it('reads a bare dotted head as a constant true, and refuses a bare name', () => {
    expect(doc('package t\na.b.c')).toEqual({ defined: true, result: { a: { b: { c: true } } } });
    const e = compileError(() => v0('package t\np'));
    expect(e.code).toBe('rego_parse_error');
    expect(e.message).toBe('var cannot be used for rule name');
  });

  it('takes else chains without `if`, and several bodies after one head', () => {
    const src = 'package t\ntier = "gold" { input.n > 10 } else = "silver" { input.n > 5 } else = "none"\nok { input.n == 1 } { input.n == 2 }';
    expect(doc(src, { n: 7 })).toEqual({ defined: true, result: { tier: 'silver' } });
    expect(doc(src, { n: 2 })).toEqual({ defined: true, result: { tier: 'none', ok: true } });
  });

  it('takes a body on the line after its head, as OPA’s scanner skips newlines', () => {
    expect(doc('package t\ndeny[msg]\n{\n  msg := "a"\n}\np = 1\n{\n  false\n}\nelse = 2\n{\n  true\n}')).toEqual({ defined: true, result: { deny: ['a'], p: 2 } });
  });

  it('refuses else on a partial rule, as OPA', () => {
    expect(compileError(() => v0('package t\np[x] = 1 { x := 1 } else = 2')).message).toBe('else keyword cannot be used on rules with variables in head');
    expect(compileError(() => v0('package t\np["a"] = 1 { false } else = 2')).message).toBe('else keyword cannot be used on multi-value rules');
  });

  it('keeps `p[x] if …` a single-value rule once `if` is imported (as OPA does)', () => {
    expect(doc('package t\nimport future.keywords.if\np[x] if { x := "a" }')).toEqual({ defined: true, result: { p: { a: true } } });
  });
});

describe('v0 keywords', () => {
  it('treats if, contains, in and every as names until they are imported', () => {
    const src = 'package t\nif := 1\nin[x] { x := 2 }\ncontains = "a rule"\nevery(x) = x';
    expect(doc(src)).toEqual({ defined: true, result: { if: 1, in: [2], contains: 'a rule' } });
    expect(doc('package t\np { contains("abc", "b") }')).toEqual({ defined: true, result: { p: true } });
  });

  it('makes each imported keyword a keyword, and only that one', () => {
    expect(doc('package t\nimport future.keywords.in\np { 1 in [1] }')).toEqual({ defined: true, result: { p: true } });
    expect(doc('package t\nimport future.keywords.in\nif := 1')).toEqual({ defined: true, result: { if: 1 } });
    expect(compileError(() => v0('package t\nimport future.keywords.if\nif := 1')).message).toBe('unexpected if keyword');
    expect(compileError(() => v0('package t\nimport future.keywords.if\np { 1 in [1] }')).code).toBe('rego_parse_error');
  });

  it('imports every with in, and all four with `import future.keywords`', () => {
    expect(doc('package t\nimport future.keywords.every\np { every x in [1] { x == 1 } }')).toEqual({ defined: true, result: { p: true } });
    const all = 'package t\nimport future.keywords\nxs contains x if some x in [1, 2]\nok if every x in xs { x > 0 }';
    expect(doc(all)).toEqual({ defined: true, result: { xs: [1, 2], ok: true } });
  });

  it('refuses malformed keyword imports with OPA’s messages', () => {
    expect(compileError(() => v0('package t\nimport future.keywords.when')).message).toBe('unexpected keyword, must be one of [contains every if in]');
    expect(compileError(() => v0('package t\nimport future.stuff')).message).toBe('invalid import, must be `future.keywords`');
    expect(compileError(() => v0('package t\nimport future.keywords.in as kw')).message).toBe('`future` imports cannot be aliased');
    expect(compileError(() => v0('package t\nimport rego.v2')).message).toBe('invalid import `rego.v2`, must be `rego.v1`');
  });
});

describe('v0 modules that import rego.v1', () => {
  it('are held to v1’s syntax', () => {
    const e = compileError(() => v0('package t\nimport rego.v1\np { true }'));
    expect(e.message).toBe('`if` keyword is required before rule body');
    expect(e.errors[0]!.location).toEqual({ file: 'v0.rego', row: 3, col: 3 });
  });

  it('and to v1’s checks: no deprecated built-ins, no assignment to input', () => {
    expect(compileError(() => v0('package t\nimport rego.v1\np := any([true])')).message).toBe('undefined function any');
    expect(compileError(() => v0('package t\nimport rego.v1\np if { input := 1; input == 1 }')).message).toBe('cannot assign to input');
  });

  it('use v1’s keywords', () => {
    expect(doc('package t\nimport rego.v1\nxs contains x if some x in [1]')).toEqual({ defined: true, result: { xs: [1] } });
  });
});

describe('what v0 relaxes', () => {
  it('has the built-ins v1 removed', () => {
    const src = `package t
p = [any([false, true]), any(set()), all([true, true]), all({true, false}), re_match("^a.c$", "abc"),
     net.cidr_overlap("10.0.0.0/8", "10.1.2.3"), set_diff({1, 2, 3}, {2}), cast_array({"b", "a"}),
     cast_set(["x", "x"]), cast_string("s"), cast_boolean(true), cast_null(null), cast_object({"k": 1})]`;
    expect(doc(src)).toEqual({ defined: true, result: { p: [true, false, true, false, true, true, [1, 3], ['a', 'b'], ['x'], 's', true, null, { k: 1 }] } });
  });

  it('raises OPA’s type errors from them', () => {
    const set = compileModules([{ file: 'm.rego', source: 'package t\np = cast_string(input)\nq = any(input)' }], { regoVersion: 'v0', strictBuiltinErrors: true });
    expect(() => set.evaluate(['t', 'p'], { input: [1] })).toThrow('cast_string: operand 1 must be string but got array');
    expect(() => set.evaluate(['t', 'q'], { input: 'x' })).toThrow('any: operand 1 must be one of {set, array} but got string');
  });

  it('lets a local var shadow input, without touching the input document elsewhere', () => {
    const src = 'package t\nlocal = v { input := {"a": 1}; v := input.a }\nreal = input.a';
    expect(doc(src, { a: 2 })).toEqual({ defined: true, result: { local: 1, real: 2 } });
  });

  it('parses ad-hoc queries as v0 too', () => {
    const set = v0('package t\np[x] { x := 1 }');
    expect(set.query('x := any([true]); data.t.p[y]')).toEqual([{ x: true, y: 1 }]);
  });
});

describe('v1 stays as it was', () => {
  it('refuses v0 syntax and keywords as names', () => {
    expect(compileError(() => v1('package t\np { true }')).message).toBe('`if` keyword is required before rule body');
    expect(compileError(() => v1('package t\ncontains := 1')).message).toBe('unexpected contains keyword');
    expect(compileError(() => v1('package t\np[x] { x := 1 }')).code).toBe('rego_parse_error');
  });

  it('has no deprecated built-ins and no assignment to input', () => {
    expect(compileError(() => v1('package t\np := any([true])')).message).toBe('undefined function any');
    expect(compileError(() => v1('package t\np := re_match("a", "a")')).message).toBe('undefined function re_match');
    expect(compileError(() => v1('package t\np if { input := 1; input == 1 }')).message).toBe('cannot assign to input');
  });
});

describe('the Rego version of each module', () => {
  const legacy: RegoModule = { file: 'legacy.rego', source: 'package legacy\nallow { input.ok }', regoVersion: 'v0' };
  const modern: RegoModule = { file: 'modern.rego', source: 'package modern\nimport data.legacy\nallow if legacy.allow' };

  it('overrides the default, in both directions (a bundle’s rego_version per file)', () => {
    const mixed = compileModules([legacy, modern]);
    expect(mixed.evaluate(['modern', 'allow'], { input: { ok: true } })).toEqual({ defined: true, result: true });
    const v0Default = compileModules([{ ...legacy, regoVersion: undefined }, { ...modern, regoVersion: 'v1' }], { regoVersion: 'v0' });
    expect(v0Default.evaluate(['modern', 'allow'], { input: { ok: true } })).toEqual({ defined: true, result: true });
  });

  it('is what decides the syntax: a v1 module under a v0 default still needs `if`', () => {
    const e = compileError(() => compileModules([{ file: 'strict.rego', source: 'package s\np { true }', regoVersion: 'v1' }], { regoVersion: 'v0' }));
    expect(e.errors[0]).toMatchObject({ code: 'rego_parse_error', location: { file: 'strict.rego' } });
  });
});

describe('nesting', () => {
  it('refuses a module nested past the parser’s limit with a parse error, in either version', () => {
    const deep = `package t\nx := ${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    for (const version of ['v0', 'v1'] as const) {
      const e = compileError(() => compileModules([{ file: 'deep.rego', source: deep }], { regoVersion: version }));
      expect(e.code).toBe('rego_parse_error');
      expect(e.message).toBe('max parsing recursion depth exceeded');
    }
  });

  it('accepts nesting below the limit', () => {
    const src = `package t\nx := ${'['.repeat(400)}1${']'.repeat(400)}`;
    expect(v1(src).evaluate(['t', 'x']).defined).toBe(true);
  });
});
