import type { Body, CallTerm, Expr, RefTerm, Term as T, TermExpr } from '../ast';
import { RegoError } from '../errors';
import { Bindings } from '../eval/bindings';
import type { Evaluator } from '../eval/evaluator';
import { isFunctionNode, nodeAt, type CompiledRule, type RuleNode } from '../compiler/rule-tree';
import { RegoObject, RegoSet, equal, type Value } from '../value';
import { PE_LOC, bodyVars, exprVars, groundPrefix, plug, plugExpr, termVars, varTerm, type Env } from './terms';

/** A rule of a support module: what a residual query refers to under data.partial. */
export interface SupportRule {
  /** Full path below data, starting with `partial`. */
  readonly path: readonly string[];
  readonly kind: 'complete' | 'multi';
  /** Head ref terms after the path (`p[k] := v` → [k]). */
  readonly tail: readonly T[];
  readonly value: T;
  readonly body: Body;
  readonly isDefault: boolean;
}

export interface Residual {
  /** Disjunction of conjunctions: the query is true where one of these holds. */
  readonly queries: ReadonlyArray<readonly Expr[]>;
  readonly support: readonly SupportRule[];
}

/**
 * Expressions visited before giving up: inlining multiplies bodies (a disjunction per rule), so
 * a policy can make the residual explode; the known parts have the evaluator's own budget.
 */
const MAX_STEPS = 200_000;

type KE = (env: Env) => void;
type KT = (t: T, env: Env) => void;

const scalar = (value: Value, loc = PE_LOC): T => ({ kind: 'scalar', value, loc });

function unsupported(what: string, loc?: { file: string; row: number; col: number }): RegoError {
  return new RegoError('pe_unsupported_error', `partial evaluation does not support ${what}`, { location: loc });
}

function bind(env: Env, name: string, t: T): Env {
  const m = new Map(env);
  m.set(name, t);
  return m;
}

function rulesOf(n: RuleNode): CompiledRule[] {
  return [...n.rules, ...n.defaults];
}

/**
 * Partial evaluation (OPA's topdown with saved unknowns): evaluates what is known, keeps the
 * expressions that depend on the unknowns as residual queries, inlines the rules and functions
 * those expressions reach (one query per rule body: a disjunction), and puts what cannot be
 * inlined (default rules, whole multi-value documents, complex negations) into support modules
 * under data.partial.
 */
export class PartialEvaluator {
  private saved: Expr[] = [];
  private fresh = 0;
  private steps = 0;
  private readonly tainted = new Set<RuleNode>();
  private readonly taintBelow = new Map<RuleNode, boolean>();
  private readonly support: SupportRule[] = [];
  private readonly supported = new Set<RuleNode>();
  /** The query's own vars: kept in the residual rather than substituted away. */
  private keep: ReadonlySet<string> = new Set();
  /** Query vars unified with an unknown (OPA's saved vars): what mentions them is saved too. */
  private readonly savedVars = new Set<string>();

  constructor(
    private readonly root: RuleNode,
    private readonly ev: Evaluator,
    private readonly unknowns: ReadonlyArray<readonly string[]>,
    /** Arity of a built-in (undefined for variadic or unknown ones). */
    private readonly arityOf: (name: string) => number | undefined,
  ) {
    this.computeTaint();
  }

  run(body: Body, outputVars: readonly string[]): Residual {
    const keep = new Set(outputVars);
    this.keep = keep;
    const env = this.aliases(bodyVars(body, new Set()), keep, new Map());
    const queries: Expr[][] = [];
    const seen = new Set<string>();
    this.evalBody(body, 0, env, (out) => {
      // Saved expressions see the bindings made after them (`y[0] = z; z = 1` → `y[0] = 1`).
      const q = this.saved.map((e) => plugExpr(e, out));
      for (const v of outputVars) {
        const t = plug(varTerm(v), out);
        if (t.kind !== 'var' || t.name !== v) q.push(eqExpr(varTerm(v), t));
      }
      const key = JSON.stringify(q, (k, v: unknown) => (k === 'loc' ? undefined : v instanceof RegoObject || v instanceof RegoSet ? String(v) : v));
      if (!seen.has(key)) {
        seen.add(key);
        queries.push(q);
      }
    });
    return { queries, support: this.support };
  }

  // ---- unknowns and the rules that depend on them ---------------------------------------
  private computeTaint(): void {
    const nodes: RuleNode[] = [];
    const walk = (n: RuleNode): void => {
      if (n.rules.length || n.defaults.length) nodes.push(n);
      for (const c of n.children.values()) walk(c);
    };
    walk(this.root);
    for (let changed = true; changed; ) {
      changed = false;
      for (const n of nodes) {
        if (this.tainted.has(n)) continue;
        if (rulesOf(n).some((r) => this.ruleUnknown(r))) {
          this.tainted.add(n);
          changed = true;
        }
      }
    }
  }

  private ruleUnknown(r: CompiledRule): boolean {
    return (
      this.termUnknown(r.value) ||
      r.tail.some((t) => this.termUnknown(t)) ||
      (r.args ?? []).some((t) => this.termUnknown(t)) ||
      this.bodyUnknown(r.body) ||
      r.elses.some((e) => this.termUnknown(e.value) || this.bodyUnknown(e.body))
    );
  }

  private bodyUnknown(b: Body): boolean {
    return b.some((e) => this.exprUnknown(e));
  }

  private exprUnknown(e: Expr): boolean {
    if (e.with.some((w) => this.termUnknown(w.value))) return true;
    switch (e.kind) {
      case 'term':
        return this.termUnknown(e.term);
      case 'some':
        return false;
      case 'somein':
        return this.termUnknown(e.domain) || this.termUnknown(e.value) || (e.key !== undefined && this.termUnknown(e.key));
      case 'every':
        return this.termUnknown(e.domain) || this.bodyUnknown(e.body);
    }
  }

  /** Whether a term's value depends on an unknown (after plugging: vars bound to residuals are gone). */
  private termUnknown(t: T): boolean {
    switch (t.kind) {
      case 'scalar':
        return false;
      case 'var':
        return t.name === 'input' || t.name === 'data' ? this.refUnknown([t.name]) : this.savedVars.has(t.name);
      case 'ref': {
        const g = groundPrefix(t);
        if (g && this.refUnknown(g.segs)) return true;
        const head = t.head.kind === 'var' ? t.head.name !== 'input' && t.head.name !== 'data' && this.savedVars.has(t.head.name) : this.termUnknown(t.head);
        return head || t.path.some((p) => this.termUnknown(p));
      }
      case 'call': {
        const tg = t.target;
        if (tg?.kind === 'function') {
          const n = nodeAt(this.root, tg.path, false);
          if (n && this.tainted.has(n)) return true;
        }
        return t.args.some((a) => this.termUnknown(a));
      }
      case 'array':
      case 'set':
        return t.items.some((x) => this.termUnknown(x));
      case 'object':
        return t.entries.some(([k, v]) => this.termUnknown(k) || this.termUnknown(v));
      case 'arraycomp':
      case 'setcomp':
        return this.termUnknown(t.head) || this.bodyUnknown(t.body);
      case 'objectcomp':
        return this.termUnknown(t.key) || this.termUnknown(t.value) || this.bodyUnknown(t.body);
      case 'template':
        return t.parts.some((p) => typeof p !== 'string' && this.termUnknown(p));
    }
  }

  /** A ref's constant prefix overlaps an unknown, or reaches rules that depend on one. */
  private refUnknown(segs: readonly string[]): boolean {
    for (const u of this.unknowns) {
      const n = Math.min(u.length, segs.length);
      let same = true;
      for (let i = 0; i < n && same; i++) same = u[i] === segs[i];
      if (same) return true;
    }
    if (segs[0] !== 'data') return false;
    let node: RuleNode | undefined = this.root;
    for (let i = 1; i < segs.length && node; i++) {
      node = node.children.get(segs[i]!);
      if (node && this.tainted.has(node)) return true;
    }
    return node !== undefined && this.taintedBelow(node);
  }

  private taintedBelow(n: RuleNode): boolean {
    let v = this.taintBelow.get(n);
    if (v === undefined) {
      v = this.tainted.has(n) || [...n.children.values()].some((c) => this.taintedBelow(c));
      this.taintBelow.set(n, v);
    }
    return v;
  }

  // ---- bodies and expressions -------------------------------------------------------------
  private evalBody(body: Body, i: number, env: Env, k: KE): void {
    if (i === body.length) return k(env);
    this.evalExpr(body[i]!, env, (env2) => this.evalBody(body, i + 1, env2, k));
  }

  private evalExpr(e: Expr, env: Env, k: KE): void {
    if (++this.steps > MAX_STEPS) throw new RegoError('eval_cancel_error', 'partial evaluation exceeded its step budget', { location: e.loc });
    if (e.kind === 'some') return k(env);
    const pe = plugExpr(e, env);
    if (!this.exprUnknown(pe)) return this.evalKnownExpr(pe, env, k);
    if (pe.with.length) return this.save(pe, env, k);
    if (pe.negated) return this.evalNot(pe, env, k);
    switch (pe.kind) {
      case 'somein':
        return this.evalSomeIn(pe, env, k);
      case 'every':
        return this.save(pe, env, k);
      case 'term':
        return this.evalTermExpr(pe, env, k);
    }
  }

  private evalTermExpr(e: TermExpr, env: Env, k: KE): void {
    const t = e.term;
    if (t.kind === 'call' && t.target?.kind === 'builtin') {
      const name = t.target.name;
      if ((name === 'eq' || name === 'assign') && t.args.length === 2) {
        return this.resolve(t.args[0]!, env, (a, env2) => this.resolve(t.args[1]!, env2, (b, env3) => this.unify(a, b, e, env3, k)));
      }
      const arity = this.arityOf(name);
      if (arity !== undefined && t.args.length === arity + 1) {
        // f(x, out): the relation form, unified like `out = f(x)`.
        const call: CallTerm = { ...t, args: t.args.slice(0, arity) };
        return this.resolve(call, env, (v, env2) => this.resolve(t.args[arity]!, env2, (out, env3) => this.unify(out, v, e, env3, k)));
      }
    }
    this.resolve(t, env, (v, env2) => {
      if (v.kind === 'scalar') {
        if (v.value !== false) k(env2);
        return;
      }
      // OPA's compiler rewrites a top-level `==` into unification: residuals read `a = b`.
      const term = v.kind === 'call' && v.target?.kind === 'builtin' && v.target.name === 'equal' ? { ...v, op: varTerm('eq'), target: { kind: 'builtin' as const, name: 'eq' } } : v;
      this.save({ ...e, term }, env2, k);
    });
  }

  private evalSomeIn(e: Extract<Expr, { kind: 'somein' }>, env: Env, k: KE): void {
    this.resolve(e.domain, env, (d, env2) => {
      if (d.kind === 'scalar') return this.evalKnownExpr({ ...e, domain: d }, env2, k);
      if (d.kind !== 'ref') return this.save({ ...e, domain: d }, env2, k);
      // Iteration over an unknown collection stays in the residual as `domain[key]`.
      const key = varTerm(this.freshName());
      const elem: RefTerm = { ...d, path: [...d.path, key] };
      const withValue = (env3: Env): void => this.unify(plug(e.value, env3), elem, e, env3, k);
      if (e.key) this.unify(plug(e.key, env2), key, e, env2, withValue);
      else withValue(env2);
    });
  }

  /** `not e` on an unknown: a single residual expression is negated in place, anything else goes to a support rule. */
  private evalNot(e: Expr, env: Env, k: KE): void {
    const pos = { ...e, negated: false } as Expr;
    const outer = this.saved;
    const results: Expr[][] = [];
    this.saved = [];
    try {
      this.evalExpr(pos, env, (inner) => void results.push(this.saved.map((x) => plugExpr(x, inner))));
    } finally {
      this.saved = outer;
    }
    if (!results.length) return k(env);
    if (results.some((r) => r.length === 0)) return;
    const only = results.length === 1 && results[0]!.length === 1 ? results[0]![0]! : undefined;
    if (only && !only.negated && only.kind === 'term' && !only.with.length) return this.save({ ...only, negated: true }, env, k);
    const path = ['partial', `__not${this.fresh++}__`];
    for (const body of results) this.support.push({ path, kind: 'complete', tail: [], value: scalar(true), body, isDefault: false });
    const ref: RefTerm = { kind: 'ref', head: varTerm('data'), path: path.map((s) => scalar(s)), loc: e.loc };
    this.save({ kind: 'term', term: ref, negated: true, with: [], loc: e.loc }, env, k);
  }

  private save(e: Expr, env: Env, k: KE): void {
    this.saved.push(e);
    try {
      k(env);
    } finally {
      this.saved.pop();
    }
  }

  private unify(a: T, b: T, at: Expr, env: Env, k: KE): void {
    if (a.kind === 'scalar' && b.kind === 'scalar') {
      if (equal(a.value, b.value)) k(env);
      return;
    }
    if (a.kind === 'var' && b.kind === 'var' && a.name === b.name) return k(env);
    if (a.kind === 'var' && !(this.keep.has(a.name) && b.kind !== 'scalar')) return k(bind(env, a.name, b));
    if (b.kind === 'var' && !(this.keep.has(b.name) && a.kind !== 'scalar')) return k(bind(env, b.name, a));
    if (a.kind === 'var' || b.kind === 'var') {
      // A query var meeting an unknown stays in the residual (`input.x = y`), as OPA keeps it.
      const name = a.kind === 'var' ? a.name : (b as { name: string }).name;
      this.savedVars.add(name);
      try {
        return this.save(eqExpr(a, b, at.loc), env, k);
      } finally {
        this.savedVars.delete(name);
      }
    }
    const items = (t: T): readonly T[] | undefined =>
      t.kind === 'array' ? t.items : t.kind === 'scalar' && Array.isArray(t.value) ? (t.value as readonly Value[]).map((v) => scalar(v)) : undefined;
    const xs = items(a);
    const ys = items(b);
    if (xs && ys) {
      if (xs.length !== ys.length) return;
      const step = (i: number, env2: Env): void => (i === xs.length ? k(env2) : this.unify(plug(xs[i]!, env2), plug(ys[i]!, env2), at, env2, (env3) => step(i + 1, env3)));
      return step(0, env);
    }
    this.save(eqExpr(a, b, at.loc), env, k);
  }

  // ---- terms ----------------------------------------------------------------------------
  /** Calls k with the term's value (a scalar term) where it is known, or with its residual term. */
  private resolve(t0: T, env: Env, k: KT): void {
    const t = plug(t0, env);
    switch (t.kind) {
      case 'scalar':
        return k(t, env);
      case 'var':
        // An unbound var stands for itself (input and data are refs' business).
        return t.name === 'input' || t.name === 'data' ? (this.termUnknown(t) ? k(t, env) : this.evalKnownTerm(t, env, k)) : k(t, env);
      case 'array':
      case 'set':
      case 'object':
        break;
      default:
        if (!this.termUnknown(t)) return this.evalKnownTerm(t, env, k);
    }
    switch (t.kind) {
      case 'ref':
        return this.resolveRef(t, env, k);
      case 'call':
        return this.resolveList(t.args, 0, [], env, (args, env2) => {
          const call: CallTerm = { ...t, args };
          const tg = t.target;
          if (tg?.kind === 'function') {
            const node = nodeAt(this.root, tg.path, false);
            // Functions are inlined when they depend on unknowns, or are called with them (OPA does the same).
            if (node && (this.tainted.has(node) || args.some((a) => a.kind !== 'scalar'))) return this.inlineFunction(node, call, env2, k);
          }
          if (args.every((a) => a.kind === 'scalar')) return this.evalKnownTerm(call, env2, k);
          k(call, env2);
        });
      case 'array':
        return this.resolveList(t.items, 0, [], env, (items, env2) =>
          items.every((x) => x.kind === 'scalar') ? k(scalar(items.map((x) => (x as { value: Value }).value), t.loc), env2) : k({ ...t, items }, env2),
        );
      case 'set':
        return this.resolveList(t.items, 0, [], env, (items, env2) =>
          items.every((x) => x.kind === 'scalar') ? k(scalar(new RegoSet(items.map((x) => (x as { value: Value }).value)), t.loc), env2) : k({ ...t, items }, env2),
        );
      case 'object': {
        const flat = t.entries.flatMap(([a, b]) => [a, b]);
        return this.resolveList(flat, 0, [], env, (items, env2) => {
          const entries: Array<readonly [T, T]> = [];
          for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
          if (items.every((x) => x.kind === 'scalar')) {
            const o = new RegoObject();
            for (const [a, b] of entries) o.set((a as { value: Value }).value, (b as { value: Value }).value);
            return k(scalar(o, t.loc), env2);
          }
          k({ ...t, entries }, env2);
        });
      }
      case 'template':
        throw unsupported('template strings over unknowns', t.loc);
      default:
        // Unbound vars and comprehensions over unknowns stay as written (OPA saves them too).
        return k(t, env);
    }
  }

  private resolveList(items: readonly T[], i: number, acc: T[], env: Env, k: (ts: T[], env: Env) => void): void {
    if (i === items.length) return k([...acc], env);
    this.resolve(items[i]!, env, (v, env2) => {
      acc.push(v);
      try {
        this.resolveList(items, i + 1, acc, env2, k);
      } finally {
        acc.pop();
      }
    });
  }

  private resolveRef(t: RefTerm, env: Env, k: KT): void {
    if (t.head.kind !== 'var' || t.head.name !== 'data') {
      // input.… (or a collection built from unknowns): key terms may still be resolvable.
      return this.resolveList(t.path, 0, [], env, (path, env2) => k({ ...t, path }, env2));
    }
    const segs = groundPrefix(t)!.segs.slice(1);
    const isUnknownData = this.unknowns.some((u) => u[0] === 'data' && u.slice(1).every((s, i) => i >= segs.length || s === segs[i]));
    if (isUnknownData) return this.resolveList(t.path, 0, [], env, (path, env2) => k({ ...t, path }, env2));
    let node = this.root;
    let i = 0;
    while (i < segs.length && !node.rules.length && !node.defaults.length) {
      const c = node.children.get(segs[i]!);
      if (!c) break;
      node = c;
      i++;
    }
    if (!node.rules.length && !node.defaults.length) {
      if (i < segs.length || !this.taintedBelow(node)) return this.resolveList(t.path, 0, [], env, (path, env2) => k({ ...t, path }, env2));
      throw unsupported(`a reference to the whole document data.${segs.join('.')}, which holds rules that depend on unknowns`, t.loc);
    }
    const rest = t.path.slice(i);
    if (!this.tainted.has(node)) return this.resolveList(t.path, 0, [], env, (path, env2) => k({ ...t, path }, env2));
    this.inlineRules(node, rest, t, env, k);
  }

  /** The value of a rule document below `rest`, one answer per rule body (OPA's inlining), or a ref into a support module. */
  private inlineRules(node: RuleNode, rest: readonly T[], at: RefTerm, env: Env, k: KT): void {
    if (isFunctionNode(node)) return;
    const rules = node.rules;
    const name = `data.${node.path.join('.')}`;
    if (rules.some((r) => r.elses.length)) throw unsupported(`else on rules that depend on unknowns (${name})`, at.loc);
    const kind = rules[0]?.kind;
    const tailLen = rules[0]?.tail.length ?? 0;
    const viaSupport = node.defaults.length > 0 || (kind === 'multi' && rest.length === 0) || rest.length < tailLen || rules.some((r) => r.tail.length !== tailLen);
    if (viaSupport) {
      this.supportFor(node);
      const ref: RefTerm = { kind: 'ref', head: varTerm('data'), path: ['partial', ...node.path].map((s) => scalar(s, at.loc)), loc: at.loc };
      return rest.length ? this.resolveRef({ ...ref, path: [...ref.path, ...rest] }, env, k) : k(ref, env);
    }
    for (const r of rules) {
      this.enterRule(r, env, (renv) => {
        const heads: Array<[T, T]> = r.tail.map((x, j) => [x, rest[j]!]);
        if (r.kind === 'multi') heads.push([r.value, rest[0]!]);
        const after = rest.slice(r.kind === 'multi' ? 1 : tailLen);
        const unifyHeads = (j: number, env2: Env): void => {
          if (j < heads.length) return this.unify(plug(heads[j]![0], env2), plug(heads[j]![1], env2), ruleSite(r), env2, (env3) => unifyHeads(j + 1, env3));
          this.evalBody(r.body, 0, env2, (env3) => {
            if (r.kind === 'multi') return after.length ? undefined : k(scalar(true), env3);
            this.resolve(r.value, env3, (v, env4) => this.deref(v, after, env4, k));
          });
        };
        unifyHeads(0, renv);
      });
    }
  }

  private inlineFunction(node: RuleNode, call: CallTerm, env: Env, k: KT): void {
    if (node.defaults.length || node.rules.some((r) => r.elses.length)) {
      throw unsupported(`functions with default or else that depend on unknowns (data.${node.path.join('.')})`, call.loc);
    }
    for (const r of node.rules) {
      this.enterRule(r, env, (renv) => {
        const params = r.args ?? [];
        const step = (j: number, env2: Env): void => {
          if (j < params.length) return this.unify(plug(params[j]!, env2), call.args[j]!, ruleSite(r), env2, (env3) => step(j + 1, env3));
          this.evalBody(r.body, 0, env2, (env3) => this.resolve(r.value, env3, k));
        };
        step(0, renv);
      });
    }
  }

  /** A rule's vars renamed apart (so inlined bodies never capture each other's vars), added to `env`. */
  private enterRule(r: CompiledRule, env: Env, k: KE): void {
    const vars = bodyVars(r.body, new Set());
    termVars(r.value, vars);
    for (const t of r.tail) termVars(t, vars);
    for (const t of r.args ?? []) termVars(t, vars);
    k(this.aliases(vars, new Set(), env));
  }

  private aliases(vars: Iterable<string>, keep: ReadonlySet<string>, env: Env): Env {
    const m = new Map(env);
    for (const v of vars) if (!keep.has(v)) m.set(v, varTerm(this.freshName()));
    return m;
  }

  private freshName(): string {
    return `__local${this.fresh++}__`;
  }

  private deref(v: T, path: readonly T[], env: Env, k: KT): void {
    if (!path.length) return k(v, env);
    if (v.kind === 'ref') return this.resolve({ ...v, path: [...v.path, ...path] }, env, k);
    if (v.kind === 'scalar' || v.kind === 'var') return this.resolve({ kind: 'ref', head: v, path, loc: v.loc }, env, k);
    throw unsupported('references into a composite value built from unknowns', v.loc);
  }

  /** Rules of a node that cannot be inlined, as a support module under data.partial. */
  private supportFor(node: RuleNode): void {
    if (this.supported.has(node)) return;
    this.supported.add(node);
    const path = ['partial', ...node.path];
    const outer = this.saved;
    try {
      for (const r of node.defaults) this.support.push({ path, kind: 'complete', tail: [], value: r.value, body: [], isDefault: true });
      for (const r of node.rules) {
        this.saved = [];
        this.enterRule(r, new Map(), (renv) =>
          this.evalBody(r.body, 0, renv, (env2) =>
            this.resolve(r.value, env2, (v, env3) => {
              const tail = r.tail.map((x) => plug(x, env3));
              this.support.push({ path, kind: r.kind === 'multi' ? 'multi' : 'complete', tail, value: v, body: this.saved.map((x) => plugExpr(x, env3)), isDefault: false });
            }),
          ),
        );
      }
    } finally {
      this.saved = outer;
    }
  }

  // ---- known parts: the ordinary evaluator --------------------------------------------------
  private evalKnownExpr(e: Expr, env: Env, k: KE): void {
    const vars = [...exprVars(e, new Set())];
    const b = new Bindings();
    this.ev.evalBody([e], 0, b, () => {
      k(this.extend(env, vars, b));
      return undefined;
    });
  }

  private evalKnownTerm(t: T, env: Env, k: KT): void {
    if (t.kind === 'scalar') return k(t, env);
    const vars = [...termVars(t, new Set())];
    const b = new Bindings();
    this.ev.evalTerm(t, b, (v) => {
      k(scalar(v, t.loc), this.extend(env, vars, b));
      return undefined;
    });
  }

  private extend(env: Env, vars: readonly string[], b: Bindings): Env {
    let out = env;
    for (const v of vars) {
      const val = b.get(v);
      if (val !== undefined) out = bind(out, v, scalar(val));
    }
    return out;
  }
}

function eqExpr(a: T, b: T, loc = PE_LOC): Expr {
  const term: CallTerm = { kind: 'call', op: varTerm('eq'), args: [a, b], target: { kind: 'builtin', name: 'eq' }, loc };
  return { kind: 'term', term, negated: false, with: [], loc };
}

/** Where a rule's head unification happens, for the location of what it saves. */
function ruleSite(r: CompiledRule): Expr {
  return { kind: 'term', term: scalar(true, r.loc), negated: false, with: [], loc: r.loc };
}
