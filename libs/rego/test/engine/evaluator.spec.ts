import { describe, expect, it } from 'vitest';
import { compileModules, RegoError } from '../../src/index';

interface Row {
  readonly name: string;
  readonly src: string;
  readonly path: readonly string[];
  readonly input?: unknown;
  readonly data?: unknown;
  /** Expected JSON result, or 'undefined'. */
  readonly want: unknown;
}

const rows: readonly Row[] = [
  { name: 'complete rule', src: 'package t\np := 1 + 2', path: ['t', 'p'], want: 3 },
  { name: 'undefined vs false', src: 'package t\np if input.x == 1', path: ['t', 'p'], input: { x: 2 }, want: 'undefined' },
  { name: 'default applies', src: 'package t\ndefault p := false\np if input.x == 1', path: ['t', 'p'], input: { x: 2 }, want: false },
  { name: 'partial set sorted', src: 'package t\ns contains x if some x in ["b", "a", "b"]', path: ['t', 's'], want: ['a', 'b'] },
  { name: 'partial object', src: 'package t\no[k] := v if some k, v in {"a": 1, "b": 2}', path: ['t', 'o'], want: { a: 1, b: 2 } },
  { name: 'ref head nested', src: 'package t\na.b[x].c := x if some x in ["p", "q"]', path: ['t', 'a'], want: { b: { p: { c: 'p' }, q: { c: 'q' } } } },
  { name: 'function with else', src: 'package t\nf(x) := "one" if x == 1\nelse := "other"\np := [f(1), f(2)]', path: ['t', 'p'], want: ['one', 'other'] },
  { name: 'function pattern args', src: 'package t\nf([a, b]) := a + b\np := f([1, 2])', path: ['t', 'p'], want: 3 },
  { name: 'every true', src: 'package t\np if every x in [1, 2] { x > 0 }', path: ['t', 'p'], want: true },
  { name: 'every false', src: 'package t\np if every x in [1, -2] { x > 0 }', path: ['t', 'p'], want: 'undefined' },
  { name: 'negation', src: 'package t\np if not input.deny', path: ['t', 'p'], input: {}, want: true },
  { name: 'with input', src: 'package t\nq := input.x\np := v if v := q with input.x as 7', path: ['t', 'p'], want: 7 },
  { name: 'with data', src: 'package t\nq := data.cfg.n\np := v if v := q with data.cfg.n as 5', path: ['t', 'p'], data: { cfg: { n: 1 } }, want: 5 },
  { name: 'with builtin mock', src: 'package t\nmock(_) := 42\np := x if {\n  x := count([1]) with count as mock\n}', path: ['t', 'p'], want: 42 },
  { name: 'base and virtual merge', src: 'package t.v\nx := 1', path: ['t'], data: { t: { b: 2 } }, want: { b: 2, v: { x: 1 } } },
  { name: 'comprehension closure', src: 'package t\np := [y | some y in [1, 2, 3]; y > n]\nn := 1', path: ['t', 'p'], want: [2, 3] },
  { name: 'object comprehension', src: 'package t\np := {k: 1 | some k in ["a", "b"]}', path: ['t', 'p'], want: { a: 1, b: 1 } },
  { name: 'unification of arrays', src: 'package t\np := [a, b] if [a, 2] = [1, b]', path: ['t', 'p'], want: [1, 2] },
  { name: 'some iteration over data', src: 'package t\np contains u if { some u, r in data.roles; r == "admin" }', path: ['t', 'p'], data: { roles: { al: 'admin', bo: 'user' } }, want: ['al'] },
  { name: 'big integers stay exact', src: 'package t\np := 12345678901234567890 + 1', path: ['t', 'p'], want: 12345678901234567891n },
  { name: 'membership', src: 'package t\np := ["a" in {"a"}, 3 in [1, 2]]', path: ['t', 'p'], want: [true, false] },
  { name: 'template string', src: 'package t\nx := 3\np := $"x is {x}"', path: ['t', 'p'], want: 'x is 3' },
];

describe('evaluator', () => {
  it.each(rows)('$name', (row) => {
    const ps = compileModules([{ file: 't.rego', source: row.src }]);
    const out = ps.evaluate(row.path, { input: row.input, data: row.data });
    if (row.want === 'undefined') expect(out.defined).toBe(false);
    else expect(out).toEqual({ defined: true, result: row.want });
  });

  it('raises eval_conflict_error for conflicting complete rules', () => {
    const ps = compileModules([{ file: 't.rego', source: 'package t\np := 1\np := 2 if true' }]);
    expect(() => ps.evaluate(['t', 'p'])).toThrow(RegoError);
    try {
      ps.evaluate(['t', 'p']);
    } catch (e) {
      expect((e as RegoError).code).toBe('eval_conflict_error');
    }
  });

  it('answers queries with bindings of non-wildcard vars', () => {
    const ps = compileModules([{ file: 't.rego', source: 'package t\nr := {"a": 1, "b": 2}' }]);
    const rows = ps.query('some k; data.t.r[k] = v; v > 1; _ = k');
    expect(rows).toEqual([{ k: 'b', v: 2 }]);
  });

  it('lists test rules', () => {
    const ps = compileModules([{ file: 't.rego', source: 'package t\ntest_a if true\nb := 1' }]);
    expect(ps.testRules()).toEqual([{ path: ['t', 'test_a'], name: 'test_a' }]);
  });

  it('makes built-in errors undefined unless strict', () => {
    const src = 'package t\np := x if x := 1 / 0';
    expect(compileModules([{ file: 't.rego', source: src }]).evaluate(['t', 'p'])).toEqual({ defined: false });
    expect(() => compileModules([{ file: 't.rego', source: src }], { strictBuiltinErrors: true }).evaluate(['t', 'p'])).toThrow(/divide by zero/);
  });
});

describe('evaluator: indexing, limits and with', () => {
  const authz = [
    'package authz',
    'default allow := false',
    'allow if input.method == "GET"',
    'allow if { input.method == "POST"; input.user == "admin" }',
  ].join('\n');

  it.each([
    [{ method: 'GET' }, true],
    [{ method: 'POST', user: 'bob' }, false],
    [{ method: 'POST', user: 'admin' }, true],
    [{ method: 'PUT' }, false],
  ])('indexed rules answer like unindexed ones for %j', (input, want) => {
    const ps = compileModules([{ file: 'a.rego', source: authz }]);
    expect(ps.evaluate(['authz', 'allow'], { input })).toEqual({ defined: true, result: want });
  });

  it('dispatches functions on a constant first argument', () => {
    const src = 'package f\ng("a") := 1\ng("b") := 2\ng(x) := 3 if not x in {"a", "b"}\np := [g("a"), g("b"), g("c")]';
    const ps = compileModules([{ file: 'f.rego', source: src }]);
    expect(ps.evaluate(['f', 'p'])).toEqual({ defined: true, result: [1, 2, 3] });
  });

  it('stops a runaway evaluation at the step limit', () => {
    const ps = compileModules([{ file: 'r.rego', source: 'package r\np := count([x | some x in numbers.range(1, 100000)])' }]);
    expect(() => ps.evaluate(['r', 'p'], { maxSteps: 1000 })).toThrow(/cancel/);
    expect(ps.evaluate(['r', 'p'])).toEqual({ defined: true, result: 100000 });
  });

  it('mocks a user function with another one', () => {
    const src = 'package m\nf(x) := x + 1\ng(x) := x * 10\np := y if { y := f(1) with f as g }';
    expect(compileModules([{ file: 'm.rego', source: src }]).evaluate(['m', 'p'])).toEqual({ defined: true, result: 10 });
  });

  it('keeps with-scoped values out of the rule cache', () => {
    const src = 'package c\nq := input.x\np := [a, b] if { a := q with input.x as 1; b := q }';
    const ps = compileModules([{ file: 'c.rego', source: src }]);
    expect(ps.evaluate(['c', 'p'], { input: { x: 2 } })).toEqual({ defined: true, result: [1, 2] });
  });

  it('caches compiled queries and keeps answering', () => {
    const ps = compileModules([{ file: 'q.rego', source: 'package q\nxs := [1, 2, 3]' }]);
    for (let i = 0; i < 3; i++) expect(ps.query('some x in data.q.xs; x > 1')).toEqual([{ x: 2 }, { x: 3 }]);
  });

  it('accepts input as a Rego term', () => {
    const ps = compileModules([{ file: 'i.rego', source: 'package i\np := count(input)' }]);
    expect(ps.query('x := data.i.p', { inputTerm: '{1, 2, 3}' })).toEqual([{ x: 3 }]);
  });
});

describe('evaluator: caches and metadata', () => {
  it('recomputes data-only rules when the base data object changes', () => {
    const ps = compileModules([{ file: 's.rego', source: 'package s\nnames := {n | some n, _ in data.users}\np := count(names)' }]);
    expect(ps.evaluate(['s', 'p'], { data: { users: { a: 1 } } })).toEqual({ defined: true, result: 1 });
    expect(ps.evaluate(['s', 'p'], { data: { users: { a: 1, b: 2 } } })).toEqual({ defined: true, result: 2 });
  });

  it('answers rego.metadata.chain() for the rule being evaluated', () => {
    const src = ['# METADATA', '# title: pkg', 'package m', '', '# METADATA', '# title: rule', '# authors:', '# - Jane <jane@example.com>', 'p := rego.metadata.chain()'].join('\n');
    const out = compileModules([{ file: 'm.rego', source: src }]).evaluate(['m', 'p']);
    expect(out).toEqual({
      defined: true,
      result: [
        { path: ['m', 'p'], annotations: { title: 'rule', scope: 'rule', authors: [{ name: 'Jane', email: 'jane@example.com' }] } },
        { path: ['m'], annotations: { title: 'pkg', scope: 'package' } },
      ],
    });
  });
});

describe('evaluator: print and deep policies', () => {
  it('sends print output to the print option', () => {
    const lines: string[] = [];
    const ps = compileModules([{ file: 'p.rego', source: 'package p\nx if { print("n =", input.n, input.missing) }' }]);
    expect(ps.evaluate(['p', 'x'], { input: { n: 3 }, print: (m) => lines.push(m) })).toEqual({ defined: true, result: true });
    expect(lines).toEqual(['n = 3 <undefined>']);
  });

  it('evaluates each literal once when a body switches from the quick path to enumeration', () => {
    // f(1) runs without continuations, `some x in xs` enumerates: f must not run again for it.
    const lines: string[] = [];
    const source = 'package p\nf(n) := n if print("f", n)\nxs contains x if { f(1) == 1; some x in [1, 2] }\ny := v if { v := f(2); some z in [3]; z > 0 }';
    const ps = compileModules([{ file: 'p.rego', source }]);
    expect(ps.evaluate(['p', 'xs'], { print: (m) => lines.push(m) })).toEqual({ defined: true, result: [1, 2] });
    expect(ps.evaluate(['p', 'y'], { print: (m) => lines.push(m) })).toEqual({ defined: true, result: 2 });
    expect(lines).toEqual(['f 1', 'f 2']);
  });

  it('evaluates a long chain of rules', () => {
    const rules = Array.from({ length: 300 }, (_, i) => `r${i} := r${i + 1} + 1`).join('\n');
    const ps = compileModules([{ file: 'c.rego', source: `package c\n${rules}\nr300 := 0` }]);
    expect(ps.evaluate(['c', 'r0'])).toEqual({ defined: true, result: 300 });
  });
});
