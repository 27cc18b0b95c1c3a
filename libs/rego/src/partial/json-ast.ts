import type { Body, Expr, Term as T } from '../ast';
import { BigNum, RegoObject, RegoSet, type Value } from '../value';
import { callName } from './print';
import type { SupportRule } from './evaluate';

/** OPA's JSON AST (ast.Term / ast.Expr / ast.Module as the REST API serialises them). */
export type AstTerm = { readonly type: string; readonly value: unknown };
export interface AstExpr {
  readonly index: number;
  readonly terms: AstTerm | readonly AstTerm[];
  readonly negated?: true;
  readonly with?: ReadonlyArray<{ readonly target: AstTerm; readonly value: AstTerm }>;
}
export interface AstRule {
  readonly default?: true;
  readonly head: { readonly name: string; readonly ref: readonly AstTerm[]; readonly key?: AstTerm; readonly value?: AstTerm };
  readonly body: readonly AstExpr[];
}
export interface AstModule {
  readonly package: { readonly path: readonly AstTerm[] };
  readonly rules: readonly AstRule[];
}

const str = (s: string): AstTerm => ({ type: 'string', value: s });
const v = (s: string): AstTerm => ({ type: 'var', value: s });

/** `a.b.c` as OPA refs a built-in or function name: var head, string path. */
function nameRef(name: string): AstTerm {
  const [head, ...rest] = name.split('.');
  return { type: 'ref', value: [v(head!), ...rest.map(str)] };
}

export function valueAst(x: Value): AstTerm {
  if (x === null) return { type: 'null', value: null };
  if (typeof x === 'boolean') return { type: 'boolean', value: x };
  if (typeof x === 'number') return { type: 'number', value: x };
  if (x instanceof BigNum) return { type: 'number', value: Number(x.toString()) };
  if (typeof x === 'string') return str(x);
  if (Array.isArray(x)) return { type: 'array', value: (x as readonly Value[]).map(valueAst) };
  if (x instanceof RegoSet) return { type: 'set', value: x.sorted().map(valueAst) };
  return { type: 'object', value: (x as RegoObject).sortedEntries().map(([k, val]) => [valueAst(k), valueAst(val)]) };
}

export function termAst(t: T): AstTerm {
  switch (t.kind) {
    case 'scalar':
      return valueAst(t.value);
    case 'var':
      return v(t.name);
    case 'ref': {
      const head = termAst(t.head);
      const tail = t.path.map(termAst);
      return { type: 'ref', value: head.type === 'ref' ? [...(head.value as AstTerm[]), ...tail] : [head, ...tail] };
    }
    case 'call':
      return { type: 'call', value: [nameRef(callName(t)), ...t.args.map(termAst)] };
    case 'array':
      return { type: 'array', value: t.items.map(termAst) };
    case 'set':
      return { type: 'set', value: t.items.map(termAst) };
    case 'object':
      return { type: 'object', value: t.entries.map(([k, val]) => [termAst(k), termAst(val)]) };
    case 'arraycomp':
      return { type: 'arraycomprehension', value: { term: termAst(t.head), body: bodyAst(t.body) } };
    case 'setcomp':
      return { type: 'setcomprehension', value: { term: termAst(t.head), body: bodyAst(t.body) } };
    case 'objectcomp':
      return { type: 'objectcomprehension', value: { key: termAst(t.key), value: termAst(t.value), body: bodyAst(t.body) } };
    case 'template':
      return { type: 'templatestring', value: t.parts.map((p) => (typeof p === 'string' ? str(p) : termAst(p))) };
  }
}

function exprTerms(e: Expr): AstTerm | AstTerm[] {
  switch (e.kind) {
    case 'term':
      if (e.term.kind === 'call') return [nameRef(callName(e.term)), ...e.term.args.map(termAst)];
      return termAst(e.term);
    case 'some':
      return { type: 'var', value: e.vars.join(',') };
    case 'somein': {
      const args = e.key ? [e.key, e.value, e.domain] : [e.value, e.domain];
      return [nameRef(e.key ? 'internal.member_3' : 'internal.member_2'), ...args.map(termAst)];
    }
    case 'every':
      return {
        type: 'every',
        value: { key: e.key ? termAst(e.key) : null, value: termAst(e.value), domain: termAst(e.domain), body: bodyAst(e.body) },
      };
  }
}

export function exprAst(e: Expr, index: number): AstExpr {
  const out: { index: number; terms: AstTerm | AstTerm[]; negated?: true; with?: Array<{ target: AstTerm; value: AstTerm }> } = { index, terms: exprTerms(e) };
  if (e.negated) out.negated = true;
  if (e.with.length) out.with = e.with.map((w) => ({ target: termAst(w.target), value: termAst(w.value) }));
  return out;
}

export function bodyAst(b: Body): AstExpr[] {
  return b.map(exprAst);
}

/** Support rules grouped into modules by package, like OPA's `support` list. */
export function supportAst(rules: readonly SupportRule[]): AstModule[] {
  const byPkg = new Map<string, { path: string[]; rules: AstRule[] }>();
  for (const r of rules) {
    const pkg = r.path.slice(0, -1);
    const name = r.path[r.path.length - 1]!;
    const key = pkg.join('.');
    const m = byPkg.get(key) ?? { path: pkg, rules: [] };
    byPkg.set(key, m);
    const ref = [v(name), ...r.tail.map(termAst)];
    const head = r.kind === 'multi' ? { name, ref, key: termAst(r.value) } : { name, ref, value: termAst(r.value) };
    const body = r.body.length ? bodyAst(r.body) : [{ index: 0, terms: { type: 'boolean', value: true } }];
    m.rules.push(r.isDefault ? { default: true, head, body } : { head, body });
  }
  return [...byPkg.values()].map((m) => ({ package: { path: [v('data'), ...m.path.map(str)] }, rules: m.rules }));
}
