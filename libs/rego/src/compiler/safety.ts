import { forEachChild, type Body, type CallTarget, type Expr, type Location, type Term as T } from '../ast';
import type { RegoErrorDetail } from '../errors';
import { allVarsOfTerm, collectTerm, emptyUse, isWildcard, type VarUse } from './vars';

/** Arity of a call target (operands, without the optional output argument). */
export type ArityOf = (target: CallTarget) => number | undefined;

interface Analysis {
  readonly inputs: Set<string>;
  readonly outputs: Set<string>;
  /** Extra condition for unification: one side must be evaluable once inputs are bound. */
  readonly ready?: (bound: ReadonlySet<string>) => boolean;
}

/**
 * OPA's reorderBodyForSafety + checkSafety: orders the literals of a body so each one runs
 * once the vars it needs are bound, and reports vars that nothing binds. Nested bodies
 * (comprehensions, every) are ordered with the vars bound at their position.
 */
export class Safety {
  constructor(
    private readonly arityOf: ArityOf,
    private readonly errors: RegoErrorDetail[],
    private readonly isBuiltin: (name: string) => boolean = () => false,
  ) {}

  private isFunctionName(t: T): boolean {
    const parts: string[] = [];
    if (t.kind === 'var') parts.push(t.name);
    else if (t.kind === 'ref' && t.head.kind === 'var') {
      parts.push(t.head.name);
      for (const p of t.path) {
        if (p.kind !== 'scalar' || typeof p.value !== 'string') return false;
        parts.push(p.value);
      }
    } else return false;
    return parts[0] !== 'data' && parts[0] !== 'input' && this.isBuiltin(parts.join('.'));
  }

  /** Returns the reordered body; `bound` is updated with the vars the body binds. */
  body(body: Body, bound: Set<string>, loc: Location): Body {
    const analyses = body.map((e) => this.analyze(e));
    const remaining = body.map((_, i) => i);
    const out: Expr[] = [];
    while (remaining.length) {
      let picked = -1;
      for (let j = 0; j < remaining.length; j++) {
        const i = remaining[j]!;
        if (this.ready(body[i]!, analyses[i]!, bound)) {
          picked = j;
          break;
        }
      }
      if (picked < 0) {
        const i = remaining[0]!;
        const missing = new Set<string>();
        for (const j of remaining) {
          for (const v of this.missing(body[j]!, analyses[j]!, bound)) missing.add(v);
          const a = analyses[j]!;
          if (a.ready && !a.ready(bound)) for (const v of a.outputs) if (!bound.has(v)) missing.add(v);
        }
        const vars = [...missing].filter((v) => !isWildcard(v)).sort();
        for (const v of vars.length ? vars : ['?'])
          this.errors.push({ code: 'rego_unsafe_var_error', message: `var ${displayName(v)} is unsafe`, location: body[i]!.loc ?? loc });
        return body;
      }
      const i = remaining.splice(picked, 1)[0]!;
      const e = body[i]!;
      out.push(this.nested(e, bound));
      for (const v of analyses[i]!.outputs) bound.add(v);
    }
    return out;
  }

  /** Vars an expression needs from outside that are not bound yet (closures included). */
  private missing(e: Expr, a: Analysis, bound: ReadonlySet<string>): Set<string> {
    const out = new Set<string>();
    for (const v of a.inputs) if (!bound.has(v) && !isWildcard(v)) out.add(v);
    for (const v of this.closureNeeds(e, bound)) if (!bound.has(v) && !isWildcard(v)) out.add(v);
    return out;
  }

  private ready(e: Expr, a: Analysis, bound: ReadonlySet<string>): boolean {
    if (this.missing(e, a, bound).size) return false;
    return a.ready ? a.ready(bound) : true;
  }

  /**
   * A comprehension (or every body) needs from outside exactly the vars its own body cannot
   * bind (OPA: closures); its other vars are local to it.
   */
  private closureNeeds(e: Expr, bound: ReadonlySet<string>): Set<string> {
    const out = new Set<string>();
    const visit = (t: T): void => {
      switch (t.kind) {
        case 'arraycomp':
        case 'setcomp':
          this.simulate(t.body, [t.head], bound, out);
          return;
        case 'objectcomp':
          this.simulate(t.body, [t.key, t.value], bound, out);
          return;
        default:
          forEachChild(t, visit, () => undefined);
      }
    };
    if (e.kind === 'term') visit(e.term);
    if (e.kind === 'somein') visit(e.domain);
    if (e.kind === 'every') {
      visit(e.domain);
      const inner = new Set(bound);
      if (e.key) allVarsOfTerm(e.key, inner);
      allVarsOfTerm(e.value, inner);
      this.simulate(e.body, [], inner, out);
    }
    for (const w of e.with) visit(w.value);
    return out;
  }

  /** Dry run of ordering `body` with `bound`: adds to `out` the vars nothing inside binds. */
  private simulate(body: Body, heads: readonly T[], bound0: ReadonlySet<string>, out: Set<string>): void {
    const bound = new Set(bound0);
    const analyses = body.map((e) => this.analyze(e));
    const remaining = body.map((_, i) => i);
    for (;;) {
      const j = remaining.findIndex((i) => this.ready(body[i]!, analyses[i]!, bound));
      if (j < 0) break;
      const i = remaining.splice(j, 1)[0]!;
      for (const v of analyses[i]!.outputs) bound.add(v);
    }
    for (const i of remaining) {
      for (const v of this.missing(body[i]!, analyses[i]!, bound)) out.add(v);
      const a = analyses[i]!;
      if (a.ready && !a.ready(bound)) for (const v of a.outputs) if (!bound.has(v)) out.add(v);
    }
    for (const h of heads) for (const v of allVarsOfTerm(h, new Set())) if (!bound.has(v) && !isWildcard(v)) out.add(v);
  }

  /** Checks a term (rule head value, key) only uses bound vars; orders its comprehensions. */
  term(t: T, bound: Set<string>, loc: Location): T {
    const use = collectTerm(t, emptyUse(), false);
    const all = new Set<string>([...use.inputs, ...use.pattern, ...use.refVars]);
    const bad = [...all].filter((v) => !bound.has(v) && !isWildcard(v)).sort();
    for (const v of bad) this.errors.push({ code: 'rego_unsafe_var_error', message: `var ${displayName(v)} is unsafe`, location: t.loc ?? loc });
    return this.nestedTerm(t, bound);
  }

  private analyze(e: Expr): Analysis {
    const withInputs = new Set<string>();
    for (const w of e.with) {
      // `with f as g` naming a built-in: g is a function name, not a var.
      if (this.isFunctionName(w.value)) continue;
      const u = collectTerm(w.value, emptyUse(), false);
      for (const v of [...u.inputs, ...u.pattern, ...u.refVars]) withInputs.add(v);
    }
    const base = this.analyzeCore(e);
    for (const v of withInputs) base.inputs.add(v);
    return base;
  }

  private analyzeCore(e: Expr): { inputs: Set<string>; outputs: Set<string>; ready?: (b: ReadonlySet<string>) => boolean } {
    switch (e.kind) {
      case 'some':
        return { inputs: new Set(), outputs: new Set() };
      case 'every': {
        const u = collectTerm(e.domain, emptyUse(), false);
        return { inputs: new Set([...u.inputs, ...u.pattern]), outputs: e.negated ? new Set() : u.refVars };
      }
      case 'somein': {
        const d = collectTerm(e.domain, emptyUse(), false);
        const p = emptyUse();
        if (e.key) collectTerm(e.key, p, true);
        collectTerm(e.value, p, true);
        if (e.negated) return { inputs: union(d.inputs, d.pattern, d.refVars, p.inputs, p.pattern, p.refVars), outputs: new Set() };
        return { inputs: union(d.inputs, d.pattern, p.inputs), outputs: union(d.refVars, p.pattern, p.refVars) };
      }
      case 'term':
        break;
    }
    const t = e.term;
    if (e.negated) {
      const u = collectTerm(t, emptyUse(), false);
      return { inputs: union(u.inputs, u.pattern, u.refVars), outputs: new Set() };
    }
    if (t.kind === 'call' && t.target?.kind === 'builtin' && (t.target.name === 'eq' || t.target.name === 'assign')) {
      const a = collectTerm(t.args[0]!, emptyUse(), true);
      const b = collectTerm(t.args[1]!, emptyUse(), true);
      const [l, r] = [t.args[0]!, t.args[1]!];
      return {
        inputs: union(a.inputs, b.inputs),
        outputs: union(a.pattern, a.refVars, b.pattern, b.refVars),
        ready: (bound) => canUnify(l, r, bound),
      };
    }
    if (t.kind === 'call' && t.target) {
      const n = this.arityOf(t.target);
      const use = emptyUse();
      const outUse = emptyUse();
      t.args.forEach((a, i) => collectTerm(a, n !== undefined && i === n && t.args.length === n + 1 ? outUse : use, n !== undefined && i === n));
      return {
        inputs: union(use.inputs, use.pattern, outUse.inputs),
        outputs: union(use.refVars, outUse.pattern, outUse.refVars),
      };
    }
    const u = collectTerm(t, emptyUse(), false);
    return { inputs: union(u.inputs, u.pattern), outputs: u.refVars };
  }

  private nested(e: Expr, bound: Set<string>): Expr {
    const withs = e.with.map((w) => ({ ...w, value: this.nestedTerm(w.value, bound) }));
    switch (e.kind) {
      case 'some':
        return e;
      case 'somein':
        return { ...e, domain: this.nestedTerm(e.domain, bound), with: withs };
      case 'every': {
        const inner = new Set(bound);
        if (e.key) allVarsOfTerm(e.key, inner);
        allVarsOfTerm(e.value, inner);
        for (const v of collectTerm(e.domain, emptyUse(), false).refVars) inner.add(v);
        return { ...e, domain: this.nestedTerm(e.domain, bound), body: this.body(e.body, inner, e.loc), with: withs };
      }
      case 'term':
        return { ...e, term: this.nestedTerm(e.term, bound), with: withs };
    }
  }

  private nestedTerm(t: T, bound: ReadonlySet<string>): T {
    switch (t.kind) {
      case 'scalar':
      case 'var':
        return t;
      case 'ref':
        return { ...t, head: this.nestedTerm(t.head, bound), path: t.path.map((p) => this.nestedTerm(p, bound)) };
      case 'array':
      case 'set':
        return { ...t, items: t.items.map((x) => this.nestedTerm(x, bound)) };
      case 'object':
        return { ...t, entries: t.entries.map(([k, v]) => [this.nestedTerm(k, bound), this.nestedTerm(v, bound)] as const) };
      case 'call':
        return { ...t, args: t.args.map((a) => this.nestedTerm(a, bound)) };
      case 'template':
        return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : this.nestedTerm(p, bound))) };
      case 'arraycomp':
      case 'setcomp': {
        // An unsafe body already explains an unsafe head var: report it once.
        const inner = new Set(bound);
        const before = this.errors.length;
        const body = this.body(t.body, inner, t.loc);
        if (this.errors.length > before) return { ...t, body };
        return { ...t, body, head: this.term(t.head, inner, t.loc) };
      }
      case 'objectcomp': {
        const inner = new Set(bound);
        const before = this.errors.length;
        const body = this.body(t.body, inner, t.loc);
        if (this.errors.length > before) return { ...t, body };
        return { ...t, body, key: this.term(t.key, inner, t.loc), value: this.term(t.value, inner, t.loc) };
      }
    }
  }
}

function union(...sets: ReadonlySet<string>[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const v of s) out.add(v);
  return out;
}

/** Whether unifying l and r binds every pattern var once `bound` vars are known. */
function canUnify(l: T, r: T, bound: ReadonlySet<string>): boolean {
  const free = (t: T): boolean => {
    const u: VarUse = collectTerm(t, emptyUse(), true);
    for (const v of u.pattern) if (!bound.has(v) && !isWildcard(v)) return true;
    return false;
  };
  if (!free(l) || !free(r)) return true;
  if (l.kind === 'array' && r.kind === 'array' && l.items.length === r.items.length) {
    return l.items.every((x, i) => canUnify(x, r.items[i]!, bound));
  }
  if (l.kind === 'object' && r.kind === 'object' && l.entries.length === r.entries.length) {
    return l.entries.every(([, v], i) => canUnify(v, r.entries[i]![1], bound));
  }
  return false;
}

/** Declared vars of nested scopes are renamed `x__N`; errors show the name as written. */
export function displayName(v: string): string {
  const i = v.indexOf('__');
  return i > 0 ? v.slice(0, i) : v;
}
