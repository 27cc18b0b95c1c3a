/**
 * strings.render_template: the subset of Go's text/template that policies use: {{.a.b}},
 * {{$x}}, {{if ...}}{{else}}{{end}}, {{range [$i, $v :=] ...}}{{end}}, trim markers {{- -}}.
 * A missing key renders as "<undefined>", as OPA answers.
 */
import { BuiltinError } from './registry';
import { termString } from './format';
import { RegoObject, RegoSet, numberToString, BigNum, type Value } from '../value';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: string }
  | { kind: 'if'; cond: string; then: Node[]; else: Node[] }
  | { kind: 'range'; key?: string; val?: string; expr: string; body: Node[]; else: Node[] };

function tokenize(src: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new BuiltinError('template: unclosed action');
    let action = src.slice(open + 2, close);
    let next = close + 2;
    if (action.startsWith('- ')) {
      // trimEnd strips what `\s` matches, without a RegExp's quadratic retries on long runs.
      text = text.trimEnd();
      action = action.slice(2);
    }
    if (action.endsWith(' -')) {
      action = action.slice(0, -2);
      const m = /^\s*/.exec(src.slice(next))!;
      next += m[0].length;
    }
    if (text) out.push({ text });
    out.push({ action: action.trim() });
    i = next;
  }
  return out;
}

function parse(tokens: Array<{ text?: string; action?: string }>): Node[] {
  let pos = 0;
  const block = (): { nodes: Node[]; end: 'end' | 'else' | 'eof' } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.text !== undefined) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action!;
      if (a.startsWith('/*')) continue;
      if (a === 'end') return { nodes, end: 'end' };
      if (a === 'else') return { nodes, end: 'else' };
      if (a.startsWith('if ')) {
        const then = block();
        const els = then.end === 'else' ? block().nodes : [];
        nodes.push({ kind: 'if', cond: a.slice(3).trim(), then: then.nodes, else: els });
        continue;
      }
      if (a.startsWith('range ')) {
        const spec = a.slice(6).trim();
        const m = /^(\$\w*)(?:\s*,\s*(\$\w*))?\s*:=\s*(.+)$/.exec(spec);
        const body = block();
        const els = body.end === 'else' ? block().nodes : [];
        if (m) {
          const [, first, second, expr] = m;
          nodes.push(second ? { kind: 'range', key: first, val: second, expr: expr!, body: body.nodes, else: els } : { kind: 'range', val: first, expr: expr!, body: body.nodes, else: els });
        } else nodes.push({ kind: 'range', expr: spec, body: body.nodes, else: els });
        continue;
      }
      nodes.push({ kind: 'expr', expr: a });
    }
    return { nodes, end: 'eof' };
  };
  const { nodes } = block();
  return nodes;
}

const MISSING = Symbol('missing');
type Scope = { dot: Value | typeof MISSING; vars: Map<string, Value> };

function lookup(v: Value | typeof MISSING, path: string[]): Value | typeof MISSING {
  let cur = v;
  for (const p of path) {
    if (!(cur instanceof RegoObject)) return MISSING;
    const next = cur.get(p);
    if (next === undefined) return MISSING;
    cur = next;
  }
  return cur;
}

function evalExpr(expr: string, scope: Scope): Value | typeof MISSING {
  const e = expr.trim();
  if (e === '.') return scope.dot;
  if (e.startsWith('.')) return lookup(scope.dot, e.slice(1).split('.'));
  if (e.startsWith('$')) {
    const [name, ...rest] = e.split('.');
    const v = scope.vars.get(name!);
    return v === undefined ? MISSING : lookup(v, rest);
  }
  if (/^".*"$/.test(e)) return JSON.parse(e) as string;
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  if (e === 'true' || e === 'false') return e === 'true';
  throw new BuiltinError(`template: unsupported expression "${e}"`);
}

function truthy(v: Value | typeof MISSING): boolean {
  if (v === MISSING || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof RegoObject || v instanceof RegoSet) return v.size > 0;
  return true;
}

function show(v: Value | typeof MISSING): string {
  if (v === MISSING) return '<undefined>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || v instanceof BigNum) return numberToString(v);
  return termString(v);
}

function run(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out += n.text;
        break;
      case 'expr':
        out += show(evalExpr(n.expr, scope));
        break;
      case 'if':
        out += run(truthy(evalExpr(n.cond, scope)) ? n.then : n.else, scope);
        break;
      case 'range': {
        const coll = evalExpr(n.expr, scope);
        const items: Array<[Value, Value]> = Array.isArray(coll)
          ? (coll as readonly Value[]).map((v, i) => [i, v])
          : coll instanceof RegoObject
            ? coll.sortedEntries()
            : coll instanceof RegoSet
              ? coll.sorted().map((v, i) => [i, v])
              : [];
        if (items.length === 0) {
          out += run(n.else, scope);
          break;
        }
        for (const [k, v] of items) {
          const vars = new Map(scope.vars);
          if (n.key) vars.set(n.key, k);
          if (n.val) vars.set(n.val, v);
          out += run(n.body, { dot: v, vars });
        }
        break;
      }
    }
  }
  return out;
}

export function renderTemplate(template: string, vars: RegoObject): string {
  return run(parse(tokenize(template)), { dot: vars, vars: new Map([['$', vars]]) });
}
