import { Term, forEachChild, type Body, type CallTarget, type Expr, type Location, type Term as T } from '../ast';
import { RegoObject, equal, isArray, type Value } from '../value';
import type { RegoErrorDetail } from '../errors';
import { allVarsOfTerm, collectTerm, emptyUse, isRoot, isWildcard } from './vars';

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
  const u = new Unifier(bound);
  u.unify(l, r);
  for (const t of [l, r]) {
    for (const v of collectTerm(t, emptyUse(), true).pattern) if (!isWildcard(v) && !u.isSafe(v)) return false;
  }
  return true;
}

/**
 * OPA's unifier (ast/unify.go): which vars one unification binds. Objects pair their values by
 * key, arrays by position; two unbound vars unified with each other (or a var with a composite
 * holding unbound vars) wait on each other, so `[x, y] = [y, 1]` binds both. Refs, calls,
 * comprehensions and templates are values here: their inputs are bound before this is asked.
 */
class Unifier {
  private readonly unified = new Set<string>();
  /** A var and the vars it waits on (its dependencies, from a var = var or var = composite). */
  private readonly unknown = new Map<string, Set<string>>();

  constructor(private readonly safe: ReadonlySet<string>) {}

  isSafe(v: string): boolean {
    return this.safe.has(v) || this.unified.has(v) || isRoot(v);
  }

  unify(a: T, b: T): void {
    switch (a.kind) {
      case 'var':
        if (b.kind === 'var') {
          if (this.isSafe(b.name)) this.markSafe(a.name);
          else if (this.isSafe(a.name)) this.markSafe(b.name);
          else {
            this.markUnknown(a.name, b.name);
            this.markUnknown(b.name, a.name);
          }
        } else if (b.kind === 'array' || b.kind === 'object') this.unifyAll(a.name, b);
        else this.markSafe(a.name);
        return;
      case 'ref':
      case 'call':
        if (b.kind === 'var') this.markSafe(b.name);
        else if (b.kind === 'array' || b.kind === 'object') this.markAllSafe(b);
        return;
      case 'arraycomp':
      case 'objectcomp':
      case 'setcomp':
        if (b.kind === 'var') this.markSafe(b.name);
        else if ((a.kind === 'arraycomp' && b.kind === 'array') || (a.kind === 'objectcomp' && b.kind === 'object')) this.markAllSafe(b);
        return;
      case 'scalar':
        // A literal folded into one constant stands for the composite it was written as.
        if (b.kind === 'array' || b.kind === 'object') this.unify(b, a);
        else if (b.kind === 'var') this.markSafe(b.name);
        return;
      case 'array':
        if (b.kind === 'var') this.unifyAll(b.name, a);
        else if (b.kind === 'scalar' && isArray(b.value) && b.value.length === a.items.length) {
          a.items.forEach((x, i) => this.unify(x, Term.scalar((b.value as readonly Value[])[i]!, b.loc)));
        }
        else if (b.kind === 'ref' || b.kind === 'call' || b.kind === 'arraycomp' || b.kind === 'setcomp' || b.kind === 'objectcomp') this.markAllSafe(a);
        else if (b.kind === 'array' && a.items.length === b.items.length) a.items.forEach((x, i) => this.unify(x, b.items[i]!));
        return;
      case 'object':
        if (b.kind === 'var') this.unifyAll(b.name, a);
        else if (b.kind === 'ref' || b.kind === 'call') this.markAllSafe(a);
        else if (b.kind === 'object' && a.entries.length === b.entries.length) {
          for (const [k, v] of a.entries) {
            const other = b.entries.find(([k2]) => sameKey(k, k2));
            if (other) this.unify(v, other[1]);
          }
        } else if (b.kind === 'scalar' && b.value instanceof RegoObject && b.value.size === a.entries.length) {
          for (const [k, v] of a.entries) {
            const other = k.kind === 'scalar' ? b.value.get(k.value) : undefined;
            if (other !== undefined) this.unify(v, Term.scalar(other, b.loc));
          }
        }
        return;
      default:
        if (b.kind === 'var') this.markSafe(b.name);
    }
  }

  private markAllSafe(t: T): void {
    const use = collectTerm(t, emptyUse(), true);
    for (const v of use.pattern) this.markSafe(v);
    for (const v of use.refVars) this.markSafe(v);
  }

  private markSafe(v: string): void {
    if (this.unified.has(v)) return;
    this.unified.add(v);
    // What v was built from is known once v is.
    const deps = this.unknown.get(v);
    this.unknown.delete(v);
    if (deps) for (const d of deps) this.markSafe(d);
    // Vars waiting on v are known once nothing else is missing.
    for (const [w, waits] of [...this.unknown]) {
      if (waits.delete(v) && waits.size === 0) this.markSafe(w);
    }
  }

  private markUnknown(a: string, b: string): void {
    const deps = this.unknown.get(a);
    if (deps) deps.add(b);
    else this.unknown.set(a, new Set([b]));
  }

  private unifyAll(v: string, t: T): void {
    if (this.isSafe(v)) return this.markAllSafe(t);
    const waits = [...collectTerm(t, emptyUse(), true).pattern].filter((x) => !this.isSafe(x));
    if (waits.length === 0) this.markSafe(v);
    else for (const x of waits) this.markUnknown(v, x);
  }
}

/** Whether two object key terms name the same key (OPA compares key terms, not their values). */
function sameKey(a: T, b: T): boolean {
  if (a.kind === 'scalar' && b.kind === 'scalar') return equal(a.value, b.value);
  if (a.kind === 'var' && b.kind === 'var') return a.name === b.name;
  return false;
}

/** Declared vars of nested scopes are renamed `x__N`; errors show the name as written. */
export function displayName(v: string): string {
  const i = v.indexOf('__');
  return i > 0 ? v.slice(0, i) : v;
}
