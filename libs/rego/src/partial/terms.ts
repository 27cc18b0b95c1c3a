import type { Body, Expr, Term as T, VarTerm } from '../ast';
import { RegoError } from '../errors';

/** Bindings of partial evaluation: a var stands for a term (a known value as a scalar term, or a residual term). */
export type Env = ReadonlyMap<string, T>;

export const PE_LOC = { file: 'partial', row: 0, col: 0 };

export function varTerm(name: string): VarTerm {
  return { kind: 'var', name, loc: PE_LOC };
}

const ROOTS = new Set(['input', 'data']);

/** Replaces bound vars by their terms; a ref whose head is bound to a ref continues that ref's path. */
export function plug(t: T, env: Env): T {
  switch (t.kind) {
    case 'scalar':
      return t;
    case 'var': {
      const b = env.get(t.name);
      return b === undefined ? t : plug(b, env);
    }
    case 'ref': {
      const head = plug(t.head, env);
      const path = t.path.map((p) => plug(p, env));
      if (head.kind === 'ref') return { ...t, head: head.head, path: [...head.path, ...path] };
      return { ...t, head, path };
    }
    case 'call':
      return { ...t, args: t.args.map((a) => plug(a, env)) };
    case 'array':
    case 'set':
      return { ...t, items: t.items.map((x) => plug(x, env)) };
    case 'object':
      return { ...t, entries: t.entries.map(([k, v]) => [plug(k, env), plug(v, env)] as const) };
    case 'arraycomp':
    case 'setcomp':
      return { ...t, head: plug(t.head, env), body: plugBody(t.body, env) };
    case 'objectcomp':
      return { ...t, key: plug(t.key, env), value: plug(t.value, env), body: plugBody(t.body, env) };
    case 'template':
      return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : plug(p, env))) };
  }
}

export function plugBody(b: Body, env: Env): Body {
  return b.map((e) => plugExpr(e, env));
}

export function plugExpr(e: Expr, env: Env): Expr {
  const w = e.with.map((m) => ({ ...m, value: plug(m.value, env) }));
  switch (e.kind) {
    case 'term':
      return { ...e, term: plug(e.term, env), with: w };
    case 'some':
      return e;
    case 'somein':
      return { ...e, key: e.key && plug(e.key, env), value: plug(e.value, env), domain: plug(e.domain, env), with: w };
    case 'every':
      return { ...e, key: e.key && plug(e.key, env), value: plug(e.value, env), domain: plug(e.domain, env), body: plugBody(e.body, env), with: w };
  }
}

/** Names of the vars in a term (not input/data), comprehension bodies included. */
export function termVars(t: T, out: Set<string>): Set<string> {
  switch (t.kind) {
    case 'scalar':
      break;
    case 'var':
      if (!ROOTS.has(t.name)) out.add(t.name);
      break;
    case 'ref':
      termVars(t.head, out);
      for (const p of t.path) termVars(p, out);
      break;
    case 'call':
      for (const a of t.args) termVars(a, out);
      break;
    case 'array':
    case 'set':
      for (const x of t.items) termVars(x, out);
      break;
    case 'object':
      for (const [k, v] of t.entries) {
        termVars(k, out);
        termVars(v, out);
      }
      break;
    case 'arraycomp':
    case 'setcomp':
      termVars(t.head, out);
      bodyVars(t.body, out);
      break;
    case 'objectcomp':
      termVars(t.key, out);
      termVars(t.value, out);
      bodyVars(t.body, out);
      break;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') termVars(p, out);
      break;
  }
  return out;
}

export function exprVars(e: Expr, out: Set<string>): Set<string> {
  switch (e.kind) {
    case 'term':
      termVars(e.term, out);
      break;
    case 'some':
      for (const v of e.vars) out.add(v);
      break;
    case 'somein':
    case 'every':
      if (e.key) termVars(e.key, out);
      termVars(e.value, out);
      termVars(e.domain, out);
      if (e.kind === 'every') bodyVars(e.body, out);
      break;
  }
  for (const w of e.with) termVars(w.value, out);
  return out;
}

export function bodyVars(b: Body, out: Set<string>): Set<string> {
  for (const e of b) exprVars(e, out);
  return out;
}

/** The constant string path of a ref (`input.a.b` → ['input','a','b']) up to its first non-string segment. */
export function groundPrefix(t: T): { segs: string[]; complete: boolean } | undefined {
  if (t.kind === 'var') return { segs: [t.name], complete: true };
  if (t.kind !== 'ref' || t.head.kind !== 'var') return undefined;
  const segs = [t.head.name];
  for (const p of t.path) {
    if (p.kind !== 'scalar' || typeof p.value !== 'string') return { segs, complete: false };
    segs.push(p.value);
  }
  return { segs, complete: true };
}

const SEGMENT = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\])/;

/** `input.fruits`, `data.tables["a-b"]` → path segments; only input and data refs with constant keys. */
export function parseUnknown(s: string): string[] {
  const m = /^(input|data)/.exec(s);
  if (!m) throw new RegoError('invalid_parameter', `invalid unknown ${JSON.stringify(s)}: must be a reference into input or data`);
  const out = [m[1]!];
  let rest = s.slice(m[0].length);
  while (rest.length) {
    const seg = SEGMENT.exec(rest);
    if (!seg) throw new RegoError('invalid_parameter', `invalid unknown ${JSON.stringify(s)}: only constant keys (.name or ["key"]) are allowed`);
    out.push(seg[1] ?? (JSON.parse(`"${seg[2]}"`) as string));
    rest = rest.slice(seg[0].length);
  }
  return out;
}
