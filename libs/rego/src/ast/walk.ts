import type { Body, Expr } from './expr';
import type { Term } from './term';

/**
 * Calls `term` on each term directly inside `t`, and `body` on the body of a comprehension,
 * without descending further. Walkers handle the kinds they care about and hand every other
 * kind to this, so the shape of the language is spelled out once.
 */
export function forEachChild(t: Term, term: (t: Term) => void, body: (b: Body) => void): void {
  switch (t.kind) {
    case 'ref':
      term(t.head);
      for (const s of t.path) term(s);
      return;
    case 'call':
      for (const a of t.args) term(a);
      return;
    case 'array':
    case 'set':
      for (const x of t.items) term(x);
      return;
    case 'object':
      for (const [k, v] of t.entries) {
        term(k);
        term(v);
      }
      return;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') term(p);
      return;
    case 'arraycomp':
    case 'setcomp':
      term(t.head);
      body(t.body);
      return;
    case 'objectcomp':
      term(t.key);
      term(t.value);
      body(t.body);
      return;
    default:
      return;
  }
}

/**
 * The evaluated parts of one literal: its term, the domain of `some … in` and `every` (and
 * every's body), and the values of its `with` modifiers. Declared vars (some's key and value,
 * every's key and value) are not visited.
 */
export function forEachExprPart(e: Expr, term: (t: Term) => void, body: (b: Body) => void): void {
  if (e.kind === 'term') term(e.term);
  if (e.kind === 'somein' || e.kind === 'every') {
    term(e.domain);
    if (e.kind === 'every') body(e.body);
  }
  for (const w of e.with) term(w.value);
}
