import type { Body, Expr, Term as T, WithModifier } from '../ast';

/**
 * Rebuilds compiled terms and literals so that every node of a kind family has one hidden
 * class (same fields, same order). The evaluator switches on `kind` at hot sites; with one
 * shape V8 keeps those property loads monomorphic instead of megamorphic, which is most of
 * the per-literal cost on small policies.
 */
export function normalizeTerm(t: T): T {
  const n = {
    kind: t.kind,
    value: t.kind === 'scalar' ? t.value : undefined,
    name: t.kind === 'var' ? t.name : undefined,
    head: t.kind === 'ref' || t.kind === 'arraycomp' || t.kind === 'setcomp' ? normalizeTerm(t.head) : undefined,
    path: t.kind === 'ref' ? t.path.map(normalizeTerm) : undefined,
    items: t.kind === 'array' || t.kind === 'set' ? t.items.map(normalizeTerm) : undefined,
    entries: t.kind === 'object' ? t.entries.map(([k, v]) => [normalizeTerm(k), normalizeTerm(v)] as const) : undefined,
    op: t.kind === 'call' ? t.op : undefined,
    args: t.kind === 'call' ? t.args.map(normalizeTerm) : undefined,
    target: t.kind === 'call' ? t.target : undefined,
    key: t.kind === 'objectcomp' ? normalizeTerm(t.key) : undefined,
    val: t.kind === 'objectcomp' ? normalizeTerm(t.value) : undefined,
    body: t.kind === 'arraycomp' || t.kind === 'setcomp' || t.kind === 'objectcomp' ? normalizeBody(t.body) : undefined,
    parts: t.kind === 'template' ? t.parts.map((p) => (typeof p === 'string' ? p : normalizeTerm(p))) : undefined,
    loc: t.loc,
  };
  // ObjectCompTerm names its value `value`, which scalars use too: keep one field for both.
  if (t.kind === 'objectcomp') n.value = n.val as never;
  return n as unknown as T;
}

function normalizeWith(w: WithModifier): WithModifier {
  return { target: w.target, value: normalizeTerm(w.value), loc: w.loc };
}

export function normalizeExpr(e: Expr): Expr {
  const n = {
    kind: e.kind,
    term: e.kind === 'term' ? normalizeTerm(e.term) : undefined,
    negated: e.negated,
    with: e.with.map(normalizeWith),
    vars: e.kind === 'some' ? e.vars : undefined,
    key: (e.kind === 'somein' || e.kind === 'every') && e.key ? normalizeTerm(e.key) : undefined,
    value: e.kind === 'somein' || e.kind === 'every' ? normalizeTerm(e.value) : undefined,
    domain: e.kind === 'somein' || e.kind === 'every' ? normalizeTerm(e.domain) : undefined,
    body: e.kind === 'every' ? normalizeBody(e.body) : undefined,
    loc: e.loc,
  };
  return n as unknown as Expr;
}

export function normalizeBody(b: Body): Body {
  return b.map(normalizeExpr);
}
