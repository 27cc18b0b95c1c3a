import type { Body, Expr, Term as T } from '../ast';
import { termString } from '../builtins';
import type { SupportRule } from './evaluate';

const INFIX: Readonly<Record<string, string>> = { eq: '=', assign: ':=', equal: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' };
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The name a call's target goes by in Rego source: a built-in's name, a function's data path. */
export function callName(t: Extract<T, { kind: 'call' }>): string {
  const tg = t.target;
  if (tg?.kind === 'builtin') return tg.name;
  if (tg?.kind === 'function') return ['data', ...tg.path].join('.');
  return termText(t.op);
}

/** Rego source of a residual term, as OPA prints it (`input.x`, `data.partial.p`, `x > 1`). */
export function termText(t: T): string {
  switch (t.kind) {
    case 'scalar':
      return termString(t.value);
    case 'var':
      return t.name;
    case 'ref': {
      let s = termText(t.head);
      for (const p of t.path) s += p.kind === 'scalar' && typeof p.value === 'string' && IDENT.test(p.value) ? `.${p.value}` : `[${termText(p)}]`;
      return s;
    }
    case 'call': {
      const name = callName(t);
      const op = INFIX[name];
      if (op && t.args.length === 2) return `${termText(t.args[0]!)} ${op} ${termText(t.args[1]!)}`;
      return `${name}(${t.args.map(termText).join(', ')})`;
    }
    case 'array':
      return `[${t.items.map(termText).join(', ')}]`;
    case 'set':
      return t.items.length ? `{${t.items.map(termText).join(', ')}}` : 'set()';
    case 'object':
      return `{${t.entries.map(([k, v]) => `${termText(k)}: ${termText(v)}`).join(', ')}}`;
    case 'arraycomp':
      return `[${termText(t.head)} | ${bodyText(t.body)}]`;
    case 'setcomp':
      return `{${termText(t.head)} | ${bodyText(t.body)}}`;
    case 'objectcomp':
      return `{${termText(t.key)}: ${termText(t.value)} | ${bodyText(t.body)}}`;
    case 'template':
      return `$"${t.parts.map((p) => (typeof p === 'string' ? p : `{${termText(p)}}`)).join('')}"`;
  }
}

export function exprText(e: Expr): string {
  let s: string;
  switch (e.kind) {
    case 'term':
      s = termText(e.term);
      break;
    case 'some':
      s = `some ${e.vars.join(', ')}`;
      break;
    case 'somein':
      s = `some ${e.key ? `${termText(e.key)}, ` : ''}${termText(e.value)} in ${termText(e.domain)}`;
      break;
    case 'every':
      s = `every ${e.key ? `${termText(e.key)}, ` : ''}${termText(e.value)} in ${termText(e.domain)} { ${bodyText(e.body)} }`;
      break;
  }
  for (const w of e.with) s += ` with ${termText(w.target)} as ${termText(w.value)}`;
  return e.negated ? `not ${s}` : s;
}

export function bodyText(b: Body): string {
  return b.map(exprText).join('; ');
}

/** Rego source of support modules, one per package, as OPA prints them. */
export function supportText(rules: readonly SupportRule[]): string[] {
  const byPkg = new Map<string, string[]>();
  for (const r of rules) {
    const pkg = r.path.slice(0, -1).join('.');
    const name = r.path[r.path.length - 1]!;
    const head = name + r.tail.map((t) => `[${termText(t)}]`).join('');
    let line: string;
    if (r.isDefault) line = `default ${head} := ${termText(r.value)}`;
    else if (r.kind === 'multi') line = `${head} contains ${termText(r.value)}`;
    else line = r.value.kind === 'scalar' && r.value.value === true ? head : `${head} := ${termText(r.value)}`;
    if (!r.isDefault && r.body.length) line += ` if { ${bodyText(r.body)} }`;
    const list = byPkg.get(pkg) ?? [];
    list.push(line);
    byPkg.set(pkg, list);
  }
  return [...byPkg].map(([pkg, lines]) => `package ${pkg}\n\n${lines.join('\n')}\n`);
}
