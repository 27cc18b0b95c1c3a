import type { Body, CallTarget, CallTerm, EveryExpr, Expr, SomeInExpr, Term as T, WithModifier } from '../ast';
import { callBuiltin, toRegoError, type BuiltinDef } from '../builtins';
import { RegoError } from '../errors';
import { BigNum, RegoObject, RegoSet, equal, type Value } from '../value';
import { isFunctionNode, nodeAt } from '../compiler/rule-tree';
import { newFrameId, type DataOverride, type Frame, type FunctionOverride } from './frame';
import { Bindings } from './bindings';
import { RuleEvaluator } from './rules';
import { conflict, setPath, templateString } from './documents';
import { startsWith, targetPath, termPathOf } from './paths';
import { SLOW, type EvaluatorOptions, type K, type VK } from './shared';

export type { EvaluatorOptions } from './shared';

const RESOLVED_IN = Symbol('registry');
const RESOLVED_DEF = Symbol('def');
/** A built-in call target with its definition cached on the (otherwise immutable) AST node. */
interface ResolvedBuiltinTarget {
  [RESOLVED_IN]?: unknown;
  [RESOLVED_DEF]?: BuiltinDef;
}

/**
 * Top-down evaluation in continuation-passing style (OPA v1/topdown/eval.go): each construct
 * enumerates its solutions by calling its continuation once per solution, binding vars
 * before and unbinding after, so backtracking is just returning.
 */
export class Evaluator extends RuleEvaluator {
  protected steps = 0;
  protected readonly maxSteps: number;
  protected readonly deadline: number | undefined;

  constructor(opts: EvaluatorOptions, frame: Frame) {
    super(opts, frame);
    this.maxSteps = opts.maxSteps ?? Number.POSITIVE_INFINITY;
    this.deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  }

  // ---- bodies and expressions ----------------------------------------------------------
  evalBody(body: Body, i: number, env: Bindings, k: K): boolean | void {
    // Literals with at most one answer (tests, `x := <plain term>`) run in this loop; the
    // vars they bind are undone on the way out. Others continue in CPS.
    const mark = this.quickBound.length;
    let r: boolean | void;
    for (;;) {
      // One step per literal and per answer reaching the end of a body.
      if (++this.steps > this.maxSteps) throw new RegoError('eval_cancel_error', 'caller cancelled query execution (step limit)');
      if ((this.steps & 1023) === 0 && this.deadline !== undefined && Date.now() > this.deadline) {
        throw new RegoError('eval_cancel_error', 'caller cancelled query execution (timeout)');
      }
      if (i === body.length) {
        r = k();
        break;
      }
      const e = body[i]!;
      const tracer = this.opts.tracer;
      if (tracer) tracer({ op: 'eval', type: 'expr', location: e.loc, depth: this.traceDepth });
      const q = this.quickExpr(e, env);
      if (q === SLOW) {
        if (tracer) {
          let solved = false;
          const next = i + 1;
          r = this.evalExpr(e, env, () => {
            solved = true;
            return this.evalBody(body, next, env, k);
          });
          if (!solved) tracer({ op: 'fail', type: 'expr', location: e.loc, depth: this.traceDepth });
        } else r = this.evalExpr(e, env, () => this.evalBody(body, i + 1, env, k));
        break;
      }
      if (!q) {
        if (tracer) tracer({ op: 'fail', type: 'expr', location: e.loc, depth: this.traceDepth });
        r = undefined;
        break;
      }
      i++;
    }
    this.unbindTo(env, mark);
    return r;
  }

  /**
   * Runs a body's leading literals that have at most one answer, without continuations: the
   * index of the first literal that needs evalBody (body.length when none does), or -1 when a
   * literal failed (nothing left bound). The vars bound stay bound, on `quickBound`: the caller
   * notes its length first, continues with evalBody(body, index) if needed, then unbinds.
   */
  protected quickBody(body: Body, env: Bindings): number {
    const mark = this.quickBound.length;
    for (let i = 0; i < body.length; i++) {
      if (++this.steps > this.maxSteps) throw new RegoError('eval_cancel_error', 'caller cancelled query execution (step limit)');
      // Traced literals are announced by evalBody.
      if (this.opts.tracer) return i;
      const q = this.quickExpr(body[i]!, env);
      if (q === SLOW) return i;
      if (!q) {
        this.unbindTo(env, mark);
        return -1;
      }
    }
    return body.length;
  }

  /**
   * Evaluates a literal that cannot enumerate: true/false (the vars it bound are pushed on
   * `quickBound`), or SLOW when it needs the general path (iteration, `with`, relations...).
   */
  protected quickExpr(e: Expr, env: Bindings): boolean | typeof SLOW {
    if (e.kind !== 'term' || e.with.length) return e.kind === 'some' ? true : SLOW;
    const t = e.term;
    if (t.kind === 'call' && t.target?.kind === 'builtin' && (t.target.name === 'eq' || t.target.name === 'assign')) {
      const [a, b] = t.args as [T, T];
      if (!e.negated && a.kind === 'var' && !env.has(a.name) && a.name !== 'input' && a.name !== 'data') {
        const v = this.quick(b, env);
        if (v === SLOW) return SLOW;
        if (v === undefined) return false;
        env.set(a.name, v);
        this.quickBound.push(a.name);
        return true;
      }
      if (!e.negated && a.kind === 'array' && isFreshVars(a.items, env)) return this.destructure(a.items, b, env);
      if (this.hasUnbound(a, env) || this.hasUnbound(b, env)) return SLOW;
      const x = this.quick(a, env);
      if (x === SLOW) return SLOW;
      const y = this.quick(b, env);
      if (y === SLOW) return SLOW;
      const ok = x !== undefined && y !== undefined && equal(x, y);
      return e.negated ? !ok : ok;
    }
    const v = this.quick(t, env);
    if (v === SLOW) return SLOW;
    const ok = v !== undefined && v !== false;
    return e.negated ? !ok : ok;
  }

  /** `[x, y] := term` with distinct unbound vars: binds them all, or fails (not an array of that length). */
  private destructure(vars: readonly T[], b: T, env: Bindings): boolean | typeof SLOW {
    const v = this.quick(b, env);
    if (v === SLOW) return SLOW;
    if (!Array.isArray(v) || v.length !== vars.length) return false;
    for (let i = 0; i < vars.length; i++) {
      const name = (vars[i] as { name: string }).name;
      env.set(name, (v as readonly Value[])[i]!);
      this.quickBound.push(name);
    }
    return true;
  }

  protected evalExpr(e: Expr, env: Bindings, k: K): boolean | void {
    if (e.with.length) return this.evalWith(e, e.with, 0, [], env, k);
    return this.evalExprCore(e, env, k);
  }

  protected evalExprCore(e: Expr, env: Bindings, k: K): boolean | void {
    if (e.negated) {
      let found = false;
      this.evalPositive(e, env, () => {
        found = true;
        return true;
      });
      return found ? undefined : k();
    }
    return this.evalPositive(e, env, k);
  }

  protected evalPositive(e: Expr, env: Bindings, k: K): boolean | void {
    switch (e.kind) {
      case 'some':
        return k();
      case 'somein':
        return this.evalSomeIn(e, env, k);
      case 'every':
        return this.evalEvery(e, env, k);
      case 'term':
        break;
    }
    const t = e.term;
    if (t.kind === 'call' && t.target?.kind === 'builtin') {
      const name = t.target.name;
      if ((name === 'eq' || name === 'assign') && t.args.length === 2) return this.unify(t.args[0]!, t.args[1]!, env, k);
    }
    if (t.kind === 'call') {
      const n = this.callArity(t);
      if (n !== undefined && t.args.length === n + 1) {
        return this.evalCall(t, n, env, (v) => this.unifyValue(t.args[n]!, v, env, k));
      }
    }
    const q = this.quick(t, env);
    if (q !== SLOW) return q === undefined || q === false ? undefined : k();
    return this.evalTerm(t, env, (v) => (v === false ? undefined : k()));
  }

  protected evalSomeIn(e: SomeInExpr, env: Bindings, k: K): boolean | void {
    return this.evalTerm(e.domain, env, (coll) =>
      this.eachEntry(coll, (key, val) => {
        if (e.key) return this.unifyValue(e.key, key, env, () => this.unifyValue(e.value, val, env, k));
        return this.unifyValue(e.value, val, env, k);
      }),
    );
  }

  protected evalEvery(e: EveryExpr, env: Bindings, k: K): boolean | void {
    return this.evalTerm(e.domain, env, (coll) => {
      // every over a non-collection is undefined (OPA), not vacuously true.
      if (!Array.isArray(coll) && !(coll instanceof RegoObject) && !(coll instanceof RegoSet)) return e.negated ? k() : undefined;
      let ok = true;
      this.eachEntry(coll, (key, val) => {
        let found = false;
        const run = (): boolean | void =>
          this.evalBody(e.body, 0, env, () => {
            found = true;
            return true;
          });
        if (e.key) this.unifyValue(e.key, key, env, () => this.unifyValue(e.value, val, env, run));
        else this.unifyValue(e.value, val, env, run);
        if (!found) {
          ok = false;
          return true;
        }
        return undefined;
      });
      if (e.negated) return ok ? undefined : k();
      return ok ? k() : undefined;
    });
  }

  // ---- with ----------------------------------------------------------------------------
  protected evalWith(e: Expr, ws: readonly WithModifier[], i: number, vals: Array<Value | FunctionOverride>, env: Bindings, k: K): boolean | void {
    if (i < ws.length) {
      const w = ws[i]!;
      const fo = this.functionOverrideValue(w);
      if (fo) return this.evalWith(e, ws, i + 1, [...vals, fo], env, k);
      return this.evalTerm(w.value, env, (v) => this.evalWith(e, ws, i + 1, [...vals, v], env, k));
    }
    const outer = this.frame;
    let input = outer.input;
    let dataOverrides: DataOverride[] = [...outer.dataOverrides];
    const fnOverrides = new Map(outer.fnOverrides);
    ws.forEach((w, j) => {
      const v = vals[j]!;
      const path = targetPath(w.target);
      if (path[0] === 'input') {
        const val = v as Value;
        input = path.length === 1 ? val : setPath(input, path.slice(1), val);
        return;
      }
      if (path[0] === 'data') {
        const p = path.slice(1);
        const node = nodeAt(this.opts.root, p, false);
        if (node && isFunctionNode(node)) {
          fnOverrides.set('data.' + p.join('.'), isOverride(v) ? v : { kind: 'value', value: v });
          return;
        }
        dataOverrides = dataOverrides.filter((o) => !startsWith(o.path, p));
        dataOverrides.push({ path: p, value: v as Value });
        return;
      }
      fnOverrides.set(path.join('.'), isOverride(v) ? v : { kind: 'value', value: v });
    });
    const inner: Frame = { input, data: outer.data, dataOverrides, fnOverrides, id: newFrameId() };
    this.frame = inner;
    try {
      return this.evalExprCore(e, env, () => {
        this.frame = outer;
        try {
          return k();
        } finally {
          this.frame = inner;
        }
      });
    } finally {
      this.frame = outer;
    }
  }

  /** `with f as g` where g names a function (built-in or user) rather than a value. */
  protected functionOverrideValue(w: WithModifier): FunctionOverride | undefined {
    const tp = targetPath(w.target);
    if (tp[0] === 'input') return undefined;
    if (tp[0] === 'data') {
      const n = nodeAt(this.opts.root, tp.slice(1), false);
      if (!n || !isFunctionNode(n)) return undefined;
    }
    const vp = termPathOf(w.value);
    if (!vp) return undefined;
    if (vp[0] === 'data') {
      const n = nodeAt(this.opts.root, vp.slice(1), false);
      if (n && isFunctionNode(n)) return { kind: 'target', target: { kind: 'function', path: vp.slice(1) } };
      return undefined;
    }
    if (vp[0] === 'input') return undefined;
    const name = vp.join('.');
    if (w.value.kind === 'var' && w.value.name && this.opts.registry.has(name)) return { kind: 'target', target: { kind: 'builtin', name } };
    if (w.value.kind === 'ref' && this.opts.registry.has(name)) return { kind: 'target', target: { kind: 'builtin', name } };
    return undefined;
  }

  // ---- terms ---------------------------------------------------------------------------
  evalTerm(t: T, env: Bindings, k: VK): boolean | void {
    switch (t.kind) {
      case 'scalar':
        return k(t.value);
      case 'var': {
        const v = env.get(t.name);
        if (v !== undefined) return k(v);
        if (t.name === 'input') return this.frame.input === undefined ? undefined : k(this.frame.input);
        if (t.name === 'data') return this.evalData(this.opts.root, this.frame.data, [], 0, env, k, []);
        // An unbound var in a value position (only reachable for wildcards): no value.
        return undefined;
      }
      case 'ref':
        return this.evalRef(t, env, k);
      case 'array':
        return this.evalList(t.items, 0, [], env, (items) => k(items));
      case 'set':
        return this.evalList(t.items, 0, [], env, (items) => k(new RegoSet(items)));
      case 'object':
        return this.evalObject(t.entries, 0, new RegoObject(), env, k);
      case 'call': {
        const n = this.callArity(t) ?? t.args.length;
        return this.evalCall(t, n, env, k);
      }
      case 'arraycomp': {
        const out: Value[] = [];
        this.evalBody(t.body, 0, env, () => this.evalTerm(t.head, env, (v) => void out.push(v)));
        return k(out);
      }
      case 'setcomp': {
        const out = new RegoSet();
        this.evalBody(t.body, 0, env, () => this.evalTerm(t.head, env, (v) => void out.add(v)));
        return k(out);
      }
      case 'objectcomp': {
        const out = new RegoObject();
        this.evalBody(t.body, 0, env, () =>
          this.evalTerm(t.key, env, (key) =>
            this.evalTerm(t.value, env, (v) => {
              const prev = out.get(key);
              if (prev !== undefined && !equal(prev, v)) throw conflict('object keys must be unique', t);
              out.set(key, v);
            }),
          ),
        );
        return k(out);
      }
      case 'template':
        return this.evalTemplate(t.parts, 0, '', env, k);
    }
  }

  protected evalTemplate(parts: ReadonlyArray<string | T>, i: number, acc: string, env: Bindings, k: VK): boolean | void {
    if (i === parts.length) return k(acc);
    const p = parts[i]!;
    if (typeof p === 'string') return this.evalTemplate(parts, i + 1, acc + p, env, k);
    const vals: Value[] = [];
    this.evalTerm(p, env, (v) => void vals.push(v));
    if (vals.length > 1) throw new RegoError('eval_conflict_error', 'template expression produced multiple outputs', { location: p.loc });
    const s = vals.length === 0 ? '<undefined>' : typeof vals[0] === 'string' ? (vals[0] as string) : templateString(vals[0]!);
    return this.evalTemplate(parts, i + 1, acc + s, env, k);
  }

  protected evalList(items: readonly T[], i: number, acc: Value[], env: Bindings, k: (vs: Value[]) => boolean | void): boolean | void {
    if (i === 0 && acc.length === 0) {
      // Fast path: items that need no enumeration are evaluated in a loop.
      const out: Value[] = [];
      for (let j = 0; j < items.length; j++) {
        const q = this.quick(items[j]!, env);
        if (q === undefined) return undefined;
        if (q === SLOW) return this.evalListSlow(items, 0, [], env, k);
        out.push(q);
      }
      return k(out);
    }
    return this.evalListSlow(items, i, acc, env, k);
  }

  protected evalListSlow(items: readonly T[], i: number, acc: Value[], env: Bindings, k: (vs: Value[]) => boolean | void): boolean | void {
    if (i === items.length) return k(acc.slice());
    return this.evalTerm(items[i]!, env, (v) => {
      acc.push(v);
      const r = this.evalListSlow(items, i + 1, acc, env, k);
      acc.pop();
      return r;
    });
  }

  protected evalObject(entries: ReadonlyArray<readonly [T, T]>, i: number, acc: RegoObject, env: Bindings, k: VK): boolean | void {
    if (i === 0) {
      // Fast path: every key and value needs no enumeration.
      const out = new RegoObject();
      let j = 0;
      for (; j < entries.length; j++) {
        const [kt, vt] = entries[j]!;
        const key = this.quick(kt, env);
        const val = key === SLOW ? SLOW : this.quick(vt, env);
        if (key === SLOW || val === SLOW) break;
        if (key === undefined || val === undefined) return undefined;
        out.set(key, val);
      }
      if (j === entries.length) return k(out);
    }
    if (i === entries.length) return k(acc.clone());
    const [kt, vt] = entries[i]!;
    return this.evalTerm(kt, env, (key) =>
      this.evalTerm(vt, env, (v) => {
        const had = acc.has(key);
        const prev = acc.get(key);
        acc.set(key, v);
        const r = this.evalObject(entries, i + 1, acc, env, k);
        if (had) acc.set(key, prev!);
        else acc.delete(key);
        return r;
      }),
    );
  }

  // ---- calls ---------------------------------------------------------------------------
  /**
   * The built-in a call target names, looked up once per target node (and registry) rather
   * than by name on every call.
   */
  protected builtinDef(tg: CallTarget & { kind: 'builtin' }): BuiltinDef | undefined {
    const c = tg as ResolvedBuiltinTarget;
    if (c[RESOLVED_IN] === this.opts.registry) return c[RESOLVED_DEF];
    const def = this.opts.registry.get(tg.name);
    c[RESOLVED_IN] = this.opts.registry;
    c[RESOLVED_DEF] = def;
    return def;
  }

  protected callArity(t: CallTerm): number | undefined {
    const tg = t.target;
    if (!tg) return undefined;
    if (tg.kind === 'builtin') {
      const d = this.builtinDef(tg);
      return d && !d.variadic ? d.arity : undefined;
    }
    const n = this.functionNode(tg.path);
    const r = n && (n.rules[0] ?? n.defaults[0]);
    return r?.args?.length;
  }

  /**
   * A call with one answer (a function, or a built-in that does not enumerate) whose
   * arguments need no enumeration, evaluated without continuations; SLOW otherwise.
   */
  protected quickCall(t: CallTerm, env: Bindings): Value | undefined | typeof SLOW {
    const tg = t.target;
    if (!tg || this.frame.fnOverrides.size) return SLOW;
    let def: BuiltinDef | undefined;
    let n: number | undefined;
    if (tg.kind === 'builtin') {
      def = this.builtinDef(tg);
      // print and rego.metadata.* need the evaluator (invoke handles them).
      if (!def || def.iter || def.variadic || tg.name === 'print' || tg.name === 'rego.metadata.chain' || tg.name === 'rego.metadata.rule') return SLOW;
      n = def.arity;
    } else n = this.callArity(t);
    if (n === undefined || t.args.length !== n) return SLOW;
    const args: Value[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = this.quick(t.args[i]!, env);
      if (v === SLOW || v === undefined) return v;
      args[i] = v;
    }
    return def ? this.callDef(def, args, t) : this.callFunction((tg as { path: readonly string[] }).path, args, t);
  }

  protected evalCall(t: CallTerm, n: number, env: Bindings, k: VK): boolean | void {
    const tg = t.target;
    if (!tg) return undefined;
    if (tg.kind === 'builtin' && tg.name === 'print') return this.evalPrint(t, env, k);
    const inputs = t.args.length > n ? t.args.slice(0, n) : t.args;
    return this.evalList(inputs, 0, [], env, (args) => this.invoke(tg, args, t, k));
  }

  protected evalPrint(t: CallTerm, env: Bindings, k: VK): boolean | void {
    const args = t.args.map((a) => {
      const s = new RegoSet();
      this.evalTerm(a, env, (v) => void s.add(v));
      return s;
    });
    const def = this.opts.registry.get('print');
    if (def) this.callDef(def, args, t);
    return k(true);
  }

  protected invoke(tg: CallTarget, args: Value[], at: CallTerm, k: VK): boolean | void {
    if (this.frame.fnOverrides.size) {
      const o = this.frame.fnOverrides.get(tg.kind === 'builtin' ? tg.name : 'data.' + tg.path.join('.'));
      if (o) {
        if (o.kind === 'value') return k(o.value);
        // The replacement runs without function mocks: it may call the original it replaces,
        // and other mocks do not apply inside it (OPA: "mock will not call other mock").
        const outer = this.frame;
        this.frame = { ...outer, fnOverrides: new Map(), id: newFrameId() };
        try {
          return this.invoke(o.target, args, at, k);
        } finally {
          this.frame = outer;
        }
      }
    }
    if (tg.kind === 'function') {
      const v = this.callFunction(tg.path, args, at);
      return v === undefined ? undefined : k(v);
    }
    if (tg.name === 'rego.metadata.chain' || tg.name === 'rego.metadata.rule') {
      const v = this.metadata(tg.name === 'rego.metadata.chain');
      return v === undefined ? undefined : k(v);
    }
    const def = this.builtinDef(tg);
    if (!def) return undefined;
    if (def.iter) {
      let outs: Iterable<Value>;
      try {
        outs = def.iter(args, this.opts.ctx);
      } catch (e) {
        return this.builtinFailed(def, e, at);
      }
      for (const v of outs) if (k(v)) return true;
      return undefined;
    }
    const v = this.callDef(def, args, at);
    return v === undefined ? undefined : k(v);
  }

  protected callDef(def: BuiltinDef, args: readonly Value[], at: CallTerm): Value | undefined {
    const tracer = this.opts.tracer;
    if (tracer && def.name === 'trace' && typeof args[0] === 'string') {
      tracer({ op: 'note', type: 'expr', location: at.loc, depth: this.traceDepth, message: args[0] });
    }
    try {
      return callBuiltin(def, args, this.opts.ctx);
    } catch (e) {
      this.builtinFailed(def, e, at);
      return undefined;
    }
  }

  /** OPA: built-in errors make the call undefined unless strict (or the error halts). */
  protected builtinFailed(def: BuiltinDef, e: unknown, at: CallTerm): undefined {
    if (e instanceof RegoError && (e.code === 'eval_conflict_error' || e.code === 'eval_cancel_error')) throw e;
    const err = toRegoError(def.name, e);
    if (this.opts.strict || err.halt) throw err.location ? err : err.withLocation(at.loc);
    return undefined;
  }
}

/** Distinct vars, none bound yet (and not the roots input/data): a pattern that only binds. */
function isFreshVars(items: readonly T[], env: Bindings): boolean {
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    if (t.kind !== 'var' || t.name === 'input' || t.name === 'data' || env.has(t.name)) return false;
    for (let j = 0; j < i; j++) if ((items[j] as { name: string }).name === t.name) return false;
  }
  return true;
}

function isOverride(v: Value | FunctionOverride): v is FunctionOverride {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegoObject) && !(v instanceof RegoSet) && !(v instanceof BigNum) && 'kind' in v;
}
