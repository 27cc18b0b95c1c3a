import type { CallTerm, RefTerm, Term as T } from '../ast';
import { RegoObject, RegoSet, equal, type Value } from '../value';
import type { Frame } from './frame';
import { Bindings } from './bindings';
import { lookup } from './documents';
import { SLOW, type EvaluatorOptions, type K, type VK } from './shared';

/**
 * Unification and the enumeration-free fast path shared by the evaluator's layers
 * (OPA v1/topdown/eval.go biunify). `evalTerm` is supplied by the evaluator.
 */
export abstract class Unifier {
  constructor(
    protected readonly opts: EvaluatorOptions,
    public frame: Frame,
  ) {}

  /**
   * Vars bound by literals evaluated without continuations, most recent last. Whoever starts
   * such a run notes the length and unbinds back to it when done (unbindTo): nested runs sit
   * above and are gone before control returns, so one stack serves the whole evaluation.
   */
  protected readonly quickBound: string[] = [];

  protected unbindTo(env: Bindings, mark: number): void {
    const stack = this.quickBound;
    while (stack.length > mark) env.delete(stack.pop()!);
  }

  abstract evalTerm(t: T, env: Bindings, k: VK): boolean | void;
  /** quick() for a ref rooted at data (the rule tree lives in the evaluator). */
  protected abstract quickData(t: RefTerm, env: Bindings): Value | undefined | typeof SLOW;
  /** quick() for a call (built-ins and functions live in the evaluator). */
  protected abstract quickCall(t: CallTerm, env: Bindings): Value | undefined | typeof SLOW;

  /** Calls f(key, value) for each entry: arrays by index, objects by key, sets element twice. */
  protected eachEntry(coll: Value, f: (k: Value, v: Value) => boolean | void): boolean | void {
    if (Array.isArray(coll)) {
      const a = coll as readonly Value[];
      for (let i = 0; i < a.length; i++) if (f(i, a[i]!)) return true;
    } else if (coll instanceof RegoObject) {
      for (const [key, v] of coll.entries()) if (f(key, v)) return true;
    } else if (coll instanceof RegoSet) {
      for (const v of coll.values()) if (f(v, v)) return true;
    }
    return undefined;
  }

  /**
   * Value of a term that needs no enumeration (constant, bound var, input/var ref with
   * constant path), computed directly; undefined = undefined; SLOW = use evalTerm.
   * Most terms in real policies are like this, and skipping the continuation saves allocations.
   */
  protected quick(t: T, env: Bindings): Value | undefined | typeof SLOW {
    switch (t.kind) {
      case 'scalar':
        return t.value;
      case 'var': {
        const v = env.get(t.name);
        if (v !== undefined) return v;
        if (t.name === 'input') return this.frame.input;
        return SLOW;
      }
      case 'ref': {
        const h = t.head;
        if (h.kind !== 'var') return SLOW;
        let v = env.get(h.name);
        if (v === undefined) {
          if (h.name === 'data') return this.quickData(t, env);
          if (h.name !== 'input') return SLOW;
          v = this.frame.input;
        }
        const path = t.path;
        for (let i = 0; i < path.length; i++) {
          const seg = path[i]!;
          const key = seg.kind === 'scalar' ? seg.value : this.quickKey(seg, env);
          if (key === SLOW) return SLOW;
          if (v === undefined || key === undefined) return undefined;
          v = lookup(v, key);
        }
        return v;
      }
      case 'call':
        return this.quickCall(t, env);
      case 'array':
        return this.quickItems(t.items, env);
      case 'set': {
        const items = this.quickItems(t.items, env);
        return items === SLOW || items === undefined ? items : new RegoSet(items);
      }
      case 'object': {
        // As evalObject's fast path: a later equal key replaces an earlier one.
        const out = new RegoObject();
        for (const [kt, vt] of t.entries) {
          const key = this.quick(kt, env);
          if (key === SLOW) return SLOW;
          const val = this.quick(vt, env);
          if (val === SLOW) return SLOW;
          if (key === undefined || val === undefined) return undefined;
          out.set(key, val);
        }
        return out;
      }
      default:
        return SLOW;
    }
  }

  /** Items of an array or set literal; undefined when one is (the whole literal is then). */
  private quickItems(items: readonly T[], env: Bindings): Value[] | undefined | typeof SLOW {
    const out = new Array<Value>(items.length);
    for (let i = 0; i < items.length; i++) {
      const v = this.quick(items[i]!, env);
      if (v === SLOW || v === undefined) return v;
      out[i] = v;
    }
    return out;
  }

  /** A ref segment's key without enumeration: SLOW for an unbound var (it iterates). */
  protected quickKey(seg: T, env: Bindings): Value | undefined | typeof SLOW {
    if (seg.kind === 'scalar') return seg.value;
    if (seg.kind === 'var') return env.get(seg.name) ?? SLOW;
    return this.quick(seg, env);
  }

  // ---- unification ---------------------------------------------------------------------
  /** True when unification can bind vars in t (an unbound var, possibly inside a collection). */
  hasUnbound(t: T, env: Bindings): boolean {
    switch (t.kind) {
      case 'var':
        return !env.has(t.name) && t.name !== 'input' && t.name !== 'data';
      case 'array':
        return t.items.some((x) => this.hasUnbound(x, env));
      case 'object':
        return t.entries.some(([, v]) => this.hasUnbound(v, env));
      default:
        return false;
    }
  }

  unify(a: T, b: T, env: Bindings, k: K): boolean | void {
    const ua = this.hasUnbound(a, env);
    const ub = this.hasUnbound(b, env);
    if (ua && ub) {
      if (a.kind === 'array' && b.kind === 'array') {
        if (a.items.length !== b.items.length) return undefined;
        return this.unifyPairs(a.items, b.items, 0, env, k);
      }
      if (a.kind === 'object' && b.kind === 'object') {
        if (a.entries.length !== b.entries.length) return undefined;
        return this.unifyObjects(a.entries, b.entries, env, k);
      }
      return undefined;
    }
    if (ua) {
      const q = this.quick(b, env);
      if (q !== SLOW) return q === undefined ? undefined : this.unifyValue(a, q, env, k);
      return this.evalTerm(b, env, (v) => this.unifyValue(a, v, env, k));
    }
    const q = this.quick(a, env);
    if (q !== SLOW) return q === undefined ? undefined : this.unifyValue(b, q, env, k);
    return this.evalTerm(a, env, (v) => this.unifyValue(b, v, env, k));
  }

  protected unifyPairs(a: readonly T[], b: readonly T[], i: number, env: Bindings, k: K): boolean | void {
    if (i === a.length) return k();
    if (this.stuck(a[i]!, b[i]!, env)) {
      // Two unbound sides wait for a later pair to bind one of them: `[x, y] = [y, 1]` (OPA
      // binds var to var; taking the pairs in another order gives the same bindings).
      for (let j = i + 1; j < a.length; j++) {
        if (this.stuck(a[j]!, b[j]!, env)) continue;
        const a2 = [...a];
        const b2 = [...b];
        [a2[i], a2[j]] = [a2[j]!, a2[i]!];
        [b2[i], b2[j]] = [b2[j]!, b2[i]!];
        return this.unifyPairs(a2, b2, i, env, k);
      }
    }
    return this.unify(a[i]!, b[i]!, env, () => this.unifyPairs(a, b, i + 1, env, k));
  }

  /** Both sides unbound and not two collections of one kind (those unify element by element). */
  private stuck(a: T, b: T, env: Bindings): boolean {
    if ((a.kind === 'array' && b.kind === 'array') || (a.kind === 'object' && b.kind === 'object')) return false;
    return this.hasUnbound(a, env) && this.hasUnbound(b, env);
  }

  protected unifyObjects(a: ReadonlyArray<readonly [T, T]>, b: ReadonlyArray<readonly [T, T]>, env: Bindings, k: K): boolean | void {
    const keyOfTerm = (t: T): Value | undefined => {
      let out: Value | undefined;
      this.evalTerm(t, env, (v) => {
        out = v;
        return true;
      });
      return out;
    };
    const pairs: Array<[T, T]> = [];
    for (const [ka, va] of a) {
      const kv = keyOfTerm(ka);
      const match = b.find(([kb]) => {
        const x = keyOfTerm(kb);
        return x !== undefined && kv !== undefined && equal(x, kv);
      });
      if (!match) return undefined;
      pairs.push([va, match[1]]);
    }
    return this.unifyPairs(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
      0,
      env,
      k,
    );
  }

  /** Unifies term t with a ground value. */
  unifyValue(t: T, v: Value, env: Bindings, k: K): boolean | void {
    switch (t.kind) {
      case 'var': {
        const cur = env.get(t.name);
        if (cur !== undefined) return equal(cur, v) ? k() : undefined;
        if (t.name === 'input' || t.name === 'data') return this.evalTerm(t, env, (x) => (equal(x, v) ? k() : undefined));
        env.set(t.name, v);
        const r = k();
        env.delete(t.name);
        return r;
      }
      case 'scalar':
        return equal(t.value, v) ? k() : undefined;
      case 'array': {
        if (!Array.isArray(v)) return undefined;
        const arr = v as readonly Value[];
        if (arr.length !== t.items.length) return undefined;
        return this.unifyItems(t.items, arr, 0, env, k);
      }
      case 'object': {
        if (!(v instanceof RegoObject) || v.size !== t.entries.length) return undefined;
        return this.unifyEntries(t.entries, 0, v, env, k);
      }
      default: {
        const q = this.quick(t, env);
        if (q !== SLOW) return q !== undefined && equal(q, v) ? k() : undefined;
        return this.evalTerm(t, env, (x) => (equal(x, v) ? k() : undefined));
      }
    }
  }

  protected unifyItems(items: readonly T[], vals: readonly Value[], i: number, env: Bindings, k: K): boolean | void {
    if (i === items.length) return k();
    return this.unifyValue(items[i]!, vals[i]!, env, () => this.unifyItems(items, vals, i + 1, env, k));
  }

  protected unifyEntries(entries: ReadonlyArray<readonly [T, T]>, i: number, obj: RegoObject, env: Bindings, k: K): boolean | void {
    if (i === entries.length) return k();
    const [kt, vt] = entries[i]!;
    return this.evalTerm(kt, env, (key) => {
      const val = obj.get(key);
      if (val === undefined) return undefined;
      return this.unifyValue(vt, val, env, () => this.unifyEntries(entries, i + 1, obj, env, k));
    });
  }
}
