import { describe, expect, it } from 'vitest';
import { RegoError, bodyText, compileModules, residualToUcast, supportText, ucastToSql, type FilterTarget } from '../../src';

/**
 * Partial evaluation cases in the shape of OPA's TestTopDownPartialEval: modules, query, input,
 * unknowns → residual queries (as Rego text) and support modules.
 */
interface Case {
  readonly note: string;
  readonly modules: string;
  readonly query: string;
  readonly input?: unknown;
  readonly data?: unknown;
  readonly unknowns?: readonly string[];
  /** No unknowns in the request: the rule's METADATA names them. */
  readonly fromMetadata?: true;
  readonly queries: readonly string[];
  readonly support?: readonly string[];
}

const PKG = 'package test\n';

const CASES: readonly Case[] = [
  { note: 'comparison on an unknown', modules: 'p if input.x > 1', query: 'data.test.p', queries: ['input.x > 1'] },
  { note: '== becomes unification, known side first', modules: 'p if 2 == input.x', query: 'data.test.p', queries: ['2 = input.x'] },
  { note: 'conjunction', modules: 'p if { input.x > 1; input.y != "a" }', query: 'data.test.p', queries: ['input.x > 1; input.y != "a"'] },
  {
    note: 'several rule bodies: a disjunction',
    modules: 'p if input.x == 1\np if input.y == 2',
    query: 'data.test.p',
    queries: ['input.x = 1', 'input.y = 2'],
  },
  { note: 'known parts evaluated away', modules: 'p if { input.role == "admin"; input.x.owner == input.user }', query: 'data.test.p', input: { role: 'admin', user: 'bob' }, unknowns: ['input.x'], queries: ['input.x.owner = "bob"'] },
  { note: 'known part false: no query', modules: 'p if { input.role == "admin"; input.x.owner == input.user }', query: 'data.test.p', input: { role: 'dev' }, unknowns: ['input.x'], queries: [] },
  { note: 'unconditionally true: one empty query', modules: 'p if input.role == "admin"', query: 'data.test.p', input: { role: 'admin' }, unknowns: ['input.x'], queries: [''] },
  { note: 'functions with known args evaluated', modules: 'p if input.x.n == concat("-", ["a", upper(input.y)])', query: 'data.test.p', input: { y: 'b' }, unknowns: ['input.x'], queries: ['input.x.n = "a-B"'] },
  { note: 'assignment copies the unknown term', modules: 'p if { v := input.x; v >= 3 }', query: 'data.test.p', queries: ['input.x >= 3'] },
  { note: 'not on an unknown expression', modules: 'p if not input.x == 1', query: 'data.test.p', queries: ['not input.x = 1'] },
  {
    note: 'not over several expressions: support rule',
    modules: 'p if not q\nq if { input.x == 1; input.y == 2 }',
    query: 'data.test.p',
    queries: ['not data.partial.__not0__'],
    support: ['package partial\n\n__not0__ if { input.x = 1; input.y = 2 }\n'],
  },
  { note: 'not over something known true: fails', modules: 'p if { not input.k == 1; input.x == 1 }', query: 'data.test.p', input: { k: 1 }, unknowns: ['input.x'], queries: [] },
  { note: 'some … in an unknown collection', modules: 'p if { some t in input.tags; t == "a" }', query: 'data.test.p', queries: ['input.tags[__local1__] = "a"'] },
  { note: 'iteration with _ over an unknown', modules: 'p if input.xs[_].y == 1', query: 'data.test.p', queries: ['input.xs[__local0__].y = 1'] },
  { note: 'iteration over known data, unknown compared', modules: 'p if { some r in data.roles; r == input.role }', query: 'data.test.p', data: { roles: ['a', 'b'] }, queries: ['"a" = input.role', '"b" = input.role'] },
  { note: 'user function inlined', modules: 'p if heavy(input.box)\nheavy(b) if b.kg > 10', query: 'data.test.p', queries: ['input.box.kg > 10'] },
  { note: 'rule referenced from a rule', modules: 'p if { q; input.y == 1 }\nq if input.x == 1', query: 'data.test.p', queries: ['input.x = 1; input.y = 1'] },
  { note: 'in over a known set', modules: 'p if input.x in {"a", "b"}', query: 'data.test.p', queries: ['internal.member_2(input.x, {"a", "b"})'] },
  {
    note: 'default rule goes to a support module',
    modules: 'default p := false\np if input.x == 1',
    query: 'data.test.p',
    queries: ['data.partial.test.p'],
    support: ['package partial.test\n\ndefault p := false\np if { input.x = 1 }\n'],
  },
  {
    note: 'multi-value rule referenced whole: support module',
    modules: 'deny contains "big" if input.x > 9',
    query: 'count(data.test.deny) == 0',
    queries: ['count(data.partial.test.deny) = 0'],
    support: ['package partial.test\n\ndeny contains "big" if { input.x > 9 }\n'],
  },
  { note: 'multi-value rule with the element given: inlined', modules: 'deny contains "big" if input.x > 9', query: 'data.test.deny["big"]', queries: ['input.x > 9'] },
  { note: 'unknown under data', modules: 'p if data.tables.t.owner == input.user', query: 'data.test.p', input: { user: 'u' }, unknowns: ['data.tables.t'], queries: ['data.tables.t.owner = "u"'] },
  { note: 'query vars kept', modules: 'p := input.x', query: 'v := data.test.p', queries: ['v = input.x'] },
  // From OPA's TestTopDownPartialEval (same residuals; OPA orders a few unifications the other way round).
  { note: 'OPA: query vars', modules: '', query: 'x = 1', queries: ['x = 1'] },
  { note: 'OPA: trivial both', modules: '', query: 'input.x = input.y', queries: ['input.x = input.y'] },
  { note: 'OPA: transitive', modules: '', query: 'input.x = y; y[0] = z; z = 1; plus(z, 2, 3)', queries: ['input.x = y; y[0] = 1; z = 1'] },
  { note: 'OPA: vars', modules: '', query: 'x = 1; y = 2; input.x = x; y = input.y', queries: ['input.x = 1; 2 = input.y; x = 1; y = 2'] },
  { note: 'OPA: iterate vars', modules: '', query: 'a = [1,2]; a[i] = x', queries: ['a = [1, 2]; i = 0; x = 1', 'a = [1, 2]; i = 1; x = 2'] },
  { note: 'OPA: iterate data', modules: '', query: 'data.x[i] = input.x', data: { x: [1, 2, 3] }, queries: ['1 = input.x; i = 0', '2 = input.x; i = 1', '3 = input.x; i = 2'] },
  {
    note: 'OPA: reference: partial object',
    modules: 'p[x] = {y: z} if { x = input.x; y = "foo"; z = 1 }\np[x] = {y: z} if { x = input.y; y = "bar"; z = 2 }',
    query: 'data.test.p[x].foo = 1',
    queries: ['x = input.x'],
  },
  {
    note: 'unknowns from the rule METADATA when none are given',
    modules: '# METADATA\n# scope: document\n# compile:\n#   unknowns: [input.fruits]\ninclude if input.fruits.name == input.favorite',
    query: 'data.test.include',
    input: { favorite: 'kiwi' },
    fromMetadata: true,
    queries: ['input.fruits.name = "kiwi"'],
  },
];

describe('partial evaluation', () => {
  it.each(CASES.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const set = compileModules([{ file: 'test.rego', source: PKG + c.modules }]);
    const unknowns = c.fromMetadata ? {} : { unknowns: c.unknowns ?? ['input'] };
    const r = set.partial(c.query, { input: c.input, data: c.data, ...unknowns });
    expect(r.queries.map(bodyText)).toEqual(c.queries);
    expect(supportText(r.support)).toEqual(c.support ?? []);
  });

  it('refuses an unknown that is not a ref into input or data, naming it', () => {
    const set = compileModules([{ file: 'test.rego', source: PKG + 'p if input.x' }]);
    expect(() => set.partial('data.test.p', { unknowns: ['foo.bar'] })).toThrow(/invalid unknown "foo.bar"/);
  });

  it('names what it does not support (else over unknowns)', () => {
    const set = compileModules([{ file: 'test.rego', source: PKG + 'p if input.x == 1\nelse := 2 if input.y' }]);
    const err = (() => {
      try {
        set.partial('data.test.p', { unknowns: ['input'] });
      } catch (e) {
        return e as RegoError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('pe_unsupported_error');
    expect(err?.message).toContain('else on rules that depend on unknowns (data.test.p)');
  });
});

const FILTERS = `package filters
include if input.fruits.colour == "orange"
include if { input.fruits.price < input.max; startswith(input.fruits.name, "ap"); not input.fruits.hidden == true }
include if input.fruits.region in {"eu", "ch"}
`;

describe('data filters (UCAST and SQL)', () => {
  const set = compileModules([{ file: 'filters.rego', source: FILTERS }]);
  const residual = set.partial('data.filters.include', { input: { max: 5 }, unknowns: ['input.fruits'] });

  it('turns the residual into one UCAST condition: bodies or-ed, expressions and-ed, comparisons flipped to field-first', () => {
    expect(residualToUcast(residual, 'ucast+all')).toEqual({
      type: 'compound',
      operator: 'or',
      value: [
        { type: 'field', operator: 'eq', field: 'fruits.colour', value: 'orange' },
        {
          type: 'compound',
          operator: 'and',
          value: [
            { type: 'field', operator: 'lt', field: 'fruits.price', value: 5 },
            { type: 'field', operator: 'startswith', field: 'fruits.name', value: 'ap' },
            { type: 'compound', operator: 'not', value: [{ type: 'field', operator: 'eq', field: 'fruits.hidden', value: true }] },
          ],
        },
        { type: 'field', operator: 'in', field: 'fruits.region', value: ['ch', 'eu'] },
      ],
    });
  });

  it.each([
    ['postgresql', "WHERE fruits.colour = E'orange' OR (fruits.price < 5 AND fruits.name LIKE E'ap%' AND NOT (fruits.hidden = TRUE)) OR fruits.region IN (E'ch', E'eu')"],
    ['mysql', "WHERE fruits.colour = 'orange' OR (fruits.price < 5 AND fruits.name LIKE 'ap%' AND NOT (fruits.hidden = TRUE)) OR fruits.region IN ('ch', 'eu')"],
    ['sqlserver', "WHERE fruits.colour = N'orange' OR (fruits.price < 5 AND fruits.name LIKE N'ap%' ESCAPE '\\' AND NOT (fruits.hidden = 1)) OR fruits.region IN (N'ch', N'eu')"],
    ['sqlite', "WHERE fruits.colour = 'orange' OR (fruits.price < 5 AND fruits.name LIKE 'ap%' ESCAPE '\\' AND NOT (fruits.hidden = 1)) OR fruits.region IN ('ch', 'eu')"],
  ] as const)('renders the %s WHERE clause', (dialect, sql) => {
    expect(ucastToSql(residualToUcast(residual, `sql+${dialect}`)!, dialect)).toBe(sql);
  });

  it('applies table mappings and quotes identifiers that are not bare', () => {
    const r = compileModules([{ file: 'f.rego', source: 'package f\ninclude if input.t["odd col"] == "it\'s"' }]).partial('data.f.include', { unknowns: ['input.t'] });
    expect(ucastToSql(residualToUcast(r, 'sql+postgresql')!, 'postgresql', { t: { $self: 'tickets' } })).toBe(`WHERE tickets."odd col" = E'it\\'s'`);
  });

  it('answers undefined for a query that is never true and null (no condition) for one that always is', () => {
    const never = compileModules([{ file: 'f.rego', source: 'package f\ninclude if input.k == 1' }]).partial('data.f.include', { input: { k: 2 }, unknowns: ['input.t'] });
    const always = compileModules([{ file: 'f.rego', source: 'package f\ninclude if input.k == 1' }]).partial('data.f.include', { input: { k: 1 }, unknowns: ['input.t'] });
    expect(residualToUcast(never, 'ucast+all')).toBeUndefined();
    expect(residualToUcast(always, 'ucast+all')).toBeNull();
    expect(ucastToSql(null, 'postgresql')).toBe('');
  });

  const fragment = (policy: string, target: FilterTarget = 'ucast+all'): string[] => {
    const r = compileModules([{ file: 'filters.rego', source: `package filters\n${policy}` }]).partial('data.filters.include', { input: {}, unknowns: ['input.fruits', 'input.baskets'] });
    try {
      residualToUcast(r, target);
    } catch (e) {
      expect((e as RegoError).code).toBe('pe_fragment_error');
      return (e as RegoError).errors.map((d) => `${d.location?.row}:${d.location?.col} ${d.message}`);
    }
    return [];
  };

  it.each([
    ['invalid builtin', 'include if object.get(input, ["fruits", "colour"], "grey") == "orange"', [], '2:12 eq: nested call operand: object.get(input, ["fruits", "colour"], "grey")'],
    ['both sides unknown', 'include if input.fruits.colour == input.baskets.colour', [], '2:12 both rhs and lhs non-scalar/non-ground'],
    ['startswith with an unknown prefix', 'include if startswith("foobar", input.fruits.colour)', [], '2:12 rhs of startswith must be scalar'],
    ['not a comparison', 'include if input.fruits.colour', [], '2:12 invalid statement "input.fruits.colour"'],
    ['every', 'include if every x in input.fruits.xs { x != "y" }', [], '2:12 "every" not permitted'],
    ['default rule', 'include if other\ndefault other := false\nother if input.fruits.price > 100', [], '2:12 use of default rule in data.filters.other'],
    ['multi-value rule', 'include if { mv }\nmv contains 1 if input.fruits.price <= 1', [], '2:14 use of multi-value rule in data.filters.mv'],
  ] as const)('refuses %s with EOPA\'s pe_fragment_error', (_n, policy, _x, message) => {
    expect(fragment(policy)).toEqual([message]);
  });

  it('refuses not, in and string matching on the minimal UCAST target only', () => {
    expect(fragment('include if not input.fruits.colour == "red"', 'ucast+minimal')).toEqual(['2:12 "not" not permitted']);
    expect(fragment('include if input.fruits.colour in {"a"}', 'ucast+minimal')).toEqual(['2:12 invalid use of "... in ..."']);
    expect(fragment('include if endswith(input.fruits.colour, "d")', 'ucast+minimal')).toEqual(['2:12 invalid builtin endswith']);
    expect(fragment('include if endswith(input.fruits.colour, "d")', 'ucast+prisma')).toEqual([]);
  });
});
