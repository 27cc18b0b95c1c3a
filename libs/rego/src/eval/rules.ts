import type { Body, CallTerm, RefTerm, Term as T } from '../ast';
import { RegoError } from '../errors';
import { RegoObject, RegoSet, equal, type Value } from '../value';
import { isFunctionNode, nodeAt, type CompiledRule, type RuleNode } from '../compiler/rule-tree';
import { candidates } from '../compiler/rule-index';
import { borrowBindings, releaseBindings, type Bindings } from './bindings';
import { Unifier } from './unify';
import { VIRTUAL, conflict, insertPartial, lookup, mergeDocs, setPath } from './documents';
import { sameSegs, startsWith } from './paths';
import { DATA_REFS, EMPTY_ENV, FUNCTION_NODES, NO_KEYS, SLOW, type K, type VK } from './shared';

/**
 * Documents under data: walking refs through the rule tree, merging base and virtual
 * documents, and evaluating rules (complete, partial, functions, else chains) with caching.
 */
export abstract class RuleEvaluator extends Unifier {
  abstract evalBody(body: Body, i: number, env: Bindings, k: K): boolean | void;
  protected abstract quickBody(body: Body, env: Bindings): number;
  protected abstract evalList(items: readonly T[], i: number, acc: Value[], env: Bindings, k: (vs: Value[]) => boolean | void): boolean | void;

  // ---- refs ----------------------------------------------------------------------------
  protected evalRef(t: RefTerm, env: Bindings, k: VK): boolean | void {
    const h = t.head;
    if (h.kind === 'var' && !env.has(h.name)) {
      if (h.name === 'data') {
        let node = this.opts.root;
        let base: Value | undefined = this.frame.data;
        let i = 0;
        if (!this.frame.dataOverrides.length) {
          // The walk down the rule tree depends only on the ref and the base data: memoize it.
          const hit = DATA_REFS.get(t);
          if (hit && hit.data === base) {
            if (hit.leaf) return hit.base === undefined ? undefined : this.deref(hit.base, t.path, hit.i, env, k, true);
            return this.evalData(hit.node, hit.base, t.path, hit.i, env, k, hit.node.path);
          }
          const data = base;
          // Descend through package nodes by constant keys; rule nodes go the general way.
          const path = t.path;
          while (i < path.length && !node.rules.length && !node.defaults.length) {
            const seg = path[i]!;
            if (seg.kind !== 'scalar' || typeof seg.value !== 'string') break;
            const child = node.children.get(seg.value);
            base = lookup(base, seg.value);
            i++;
            if (!child || !child.hasRules) {
              DATA_REFS.set(t, { data, node, i, base, leaf: true });
              return base === undefined ? undefined : this.deref(base, path, i, env, k, true);
            }
            node = child;
          }
          DATA_REFS.set(t, { data, node, i, base, leaf: false });
        }
        return this.evalData(node, base, t.path, i, env, k, node.path);
      }
      if (h.name === 'input') {
        const inp = this.frame.input;
        return inp === undefined ? undefined : this.deref(inp, t.path, 0, env, k);
      }
    }
    return this.evalTerm(h, env, (v) => this.deref(v, t.path, 0, env, k));
  }

  /**
   * A data ref without enumeration: once evalRef has memoized where its constant prefix
   * leads, a ref ending in base data or in a (non-function) rule's value is a lookup, so
   * literals like `permission in data.x.allowed` or `not roles_allowed[p][r]` stay on the
   * quick path instead of building continuations.
   */
  protected quickData(t: RefTerm, env: Bindings): Value | undefined | typeof SLOW {
    const f = this.frame;
    if (f.dataOverrides.length) return SLOW;
    const hit = DATA_REFS.get(t);
    if (!hit || hit.data !== f.data) return SLOW;
    let v: Value | undefined;
    if (hit.leaf) v = hit.base;
    else {
      const node = hit.node;
      if ((!node.rules.length && !node.defaults.length) || isFunctionNode(node)) return SLOW;
      v = this.ruleValue(node);
    }
    const path = t.path;
    for (let i = hit.i; i < path.length; i++) {
      if (v === undefined) return undefined;
      const key = this.quickKey(path[i]!, env);
      if (key === SLOW) return SLOW;
      if (key === undefined) return undefined;
      let child = lookup(v, key);
      // Base documents are JSON: OPA finds data.x[2] under the key "2" (as deref does).
      if (child === undefined && hit.leaf && typeof key === 'number' && v instanceof RegoObject) child = v.get(String(key));
      v = child;
    }
    return v;
  }

  /** Applies ref segments path[i..] to a plain value, iterating over unbound segments. */
  deref(v: Value, path: readonly T[], i: number, env: Bindings, k: VK, baseDoc = false): boolean | void {
    // Constant segments (the common `input.a.b`) are walked in a loop, without closures.
    while (i < path.length) {
      const seg = path[i]!;
      if (seg.kind !== 'scalar') break;
      let child = lookup(v, seg.value);
      if (child === undefined && baseDoc && typeof seg.value === 'number' && v instanceof RegoObject) child = v.get(String(seg.value));
      if (child === undefined) return undefined;
      v = child;
      i++;
    }
    if (i === path.length) return k(v);
    const seg = path[i]!;
    if (this.hasUnbound(seg, env)) {
      return this.eachEntry(v, (key, val) => this.unifyValue(seg, key, env, () => this.deref(val, path, i + 1, env, k, baseDoc)));
    }
    return this.evalTerm(seg, env, (key) => {
      let child = lookup(v, key);
      // Base documents are JSON: OPA finds data.x[2] under the key "2".
      if (child === undefined && baseDoc && typeof key === 'number' && v instanceof RegoObject) child = v.get(String(key));
      return child === undefined ? undefined : this.deref(child, path, i + 1, env, k, baseDoc);
    });
  }

  /**
   * Evaluates path[i..] below a node of the rule tree, merging base documents (`base`) with
   * virtual documents the rules produce.
   */
  protected evalData(node: RuleNode | undefined, base: Value | undefined, path: readonly T[], i: number, env: Bindings, k: VK, prefix: readonly string[]): boolean | void {
    if (this.frame.dataOverrides.length) {
      const o = this.frame.dataOverrides.find((x) => sameSegs(x.path, prefix));
      if (o) return this.deref(o.value, path, i, env, k);
    }
    if (!node || !node.hasRules) {
      if (this.frame.dataOverrides.some((x) => startsWith(x.path, prefix) && x.path.length > prefix.length)) {
        const v = this.nodeValue(node, base, prefix);
        return v === undefined ? undefined : this.deref(v, path, i, env, k);
      }
      if (this.frame.dataOverrides.length && i < path.length && !this.hasUnbound(path[i]!, env)) {
        // Walk on key by key so an override further down the path is seen.
        return this.evalTerm(path[i]!, env, (key0) => {
          const key = typeof key0 === 'number' ? String(key0) : key0;
          return typeof key === 'string'
            ? this.evalData(undefined, lookup(base, key), path, i + 1, env, k, [...prefix, key])
            : base === undefined
              ? undefined
              : this.deref(base, path, i, env, k);
        });
      }
      return base === undefined ? undefined : this.deref(base, path, i, env, k, true);
    }
    if (node.rules.length || node.defaults.length) {
      if (isFunctionNode(node)) return undefined;
      const v = this.nodeValue(node, base, prefix);
      return v === undefined ? undefined : this.deref(v, path, i, env, k);
    }
    if (i === path.length) {
      const v = this.nodeValue(node, base, prefix);
      return v === undefined ? undefined : k(v);
    }
    const seg = path[i]!;
    if (this.hasUnbound(seg, env)) {
      const keys = new Set<Value>();
      for (const [name, c] of node.children) if (c.hasRules && !isFunctionNode(c)) keys.add(name);
      if (base instanceof RegoObject) for (const key of base.keys()) keys.add(key);
      for (const key of keys) {
        const child = typeof key === 'string' ? node.children.get(key) : undefined;
        const r = this.unifyValue(seg, key, env, () =>
          this.evalData(child, lookup(base, key), path, i + 1, env, k, typeof key === 'string' ? [...prefix, key] : prefix),
        );
        if (r) return true;
      }
      return undefined;
    }
    return this.evalTerm(seg, env, (key0) => {
      const key = typeof key0 === 'number' ? String(key0) : key0;
      const child = typeof key === 'string' ? node.children.get(key) : undefined;
      const b = base === undefined ? undefined : lookup(base, key);
      if (!child && (typeof key !== 'string' || !this.frame.dataOverrides.length)) {
        return b === undefined ? undefined : this.deref(b, path, i + 1, env, k, true);
      }
      return this.evalData(child, b, path, i + 1, env, k, child ? child.path : [...prefix, key as string]);
    });
  }

  /** The full document at a node: rule values, or children merged over base data. */
  protected nodeValue(node: RuleNode | undefined, base: Value | undefined, prefix: readonly string[]): Value | undefined {
    let v: Value | undefined;
    if (node && (node.rules.length || node.defaults.length)) {
      if (isFunctionNode(node)) return undefined;
      v = this.ruleValue(node);
    } else if (node && node.hasRules) {
      const out = base instanceof RegoObject ? base.clone() : new RegoObject();
      VIRTUAL.add(out);
      for (const [name, c] of node.children) {
        if (!c.hasRules) continue;
        const b = lookup(base, name);
        if (b !== undefined && !(b instanceof RegoObject)) continue;
        const cv = this.nodeValue(c, b, [...prefix, name]);
        if (cv !== undefined) out.set(name, cv);
        else out.delete(name);
      }
      v = out;
    } else v = base;
    for (const o of this.frame.dataOverrides) {
      if (o.path.length > prefix.length && startsWith(o.path, prefix)) v = setPath(v, o.path.slice(prefix.length), o.value);
    }
    return v;
  }

  // ---- rules ---------------------------------------------------------------------------
  protected ruleValue(node: RuleNode): Value | undefined {
    if (node.constValue !== undefined) return node.constValue;
    const id = this.frame.id;
    if (node.cacheFrame === id) return node.cacheValue;
    const f = this.frame;
    // A traced evaluation computes its rules again, so that their events are recorded.
    const shared = node.isStatic && f.dataOverrides.length === 0 && f.fnOverrides.size === 0 && !this.opts.tracer;
    if (shared && node.staticData === f.data && node.staticData !== undefined) return node.staticValue;
    if (node.evaluating) {
      // Recursion the compiler could not see (through `data[x]`): fail instead of looping.
      throw new RegoError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`, { halt: true });
    }
    node.evaluating = true;
    let v: Value | undefined;
    try {
      v = this.computeRuleValue(node);
    } finally {
      node.evaluating = false;
    }
    node.cacheFrame = id;
    node.cacheValue = v;
    if (shared) {
      node.staticData = f.data;
      node.staticValue = v;
    }
    return v;
  }

  protected computeRuleValue(node: RuleNode): Value | undefined {
    const first = node.rules[0] ?? node.defaults[0]!;
    const rules = this.candidateRules(node);
    if (first.kind === 'complete' && first.tail.length === 0) {
      let result: Value | undefined;
      const env = borrowBindings();
      for (const r of rules) {
        this.evalRuleClauses(r, env, (v) => {
          if (result !== undefined && !equal(result, v)) throw conflict('complete rules must not produce multiple outputs', r);
          result = v;
        });
        env.clear();
      }
      if (result === undefined && node.defaults.length) {
        this.evalTerm(node.defaults[0]!.value, env, (v) => {
          result = v;
          return true;
        });
      }
      releaseBindings(env);
      return result;
    }
    // Partial rules: a set (contains), or an object built from the dynamic head refs.
    let out: Value = first.kind === 'multi' && first.tail.length === 0 ? new RegoSet() : new RegoObject();
    if (out instanceof RegoObject) VIRTUAL.add(out);
    const prevRule = this.currentRule;
    const env = borrowBindings();
    const mark = this.quickBound.length;
    const tracer = this.opts.tracer;
    if (tracer) this.traceDepth++;
    for (const r of rules) {
      this.currentRule = r;
      if (tracer) tracer({ op: 'enter', type: 'rule', location: r.loc, depth: this.traceDepth - 1, rule: r.path });
      env.clear();
      if (this.quickBound.length !== mark) this.quickBound.length = mark; // env.clear() unbound them
      if (r.elses.length) {
        // Only a ground head key carries an else chain (the parser refuses others): one key, one value.
        this.evalList(r.tail, 0, [], env, (keys) =>
          this.evalRuleClauses(r, env, (v) => {
            out = insertPartial(out, r, keys, v);
          }),
        );
        continue;
      }
      const i = this.quickBody(r.body, env);
      if (i < 0) continue;
      if (i === r.body.length && r.tail.length === 0) {
        const v = this.quick(r.value, env);
        if (v !== SLOW) {
          if (v !== undefined) out = insertPartial(out, r, NO_KEYS, v);
          continue;
        }
      }
      // The rest of the body (from the first literal that enumerates), then head keys and value.
      this.evalBody(r.body, i, env, () =>
        this.evalList(r.tail, 0, [], env, (keys) =>
          this.evalTerm(r.value, env, (v) => {
            out = insertPartial(out, r, keys, v);
          }),
        ),
      );
    }
    if (this.quickBound.length !== mark) this.quickBound.length = mark;
    if (tracer) this.traceDepth--;
    this.currentRule = prevRule;
    releaseBindings(env);
    if (out instanceof RegoObject) {
      for (const [name, c] of node.children) {
        if (!c.hasRules) continue;
        const cv = this.nodeValue(c, undefined, c.path);
        if (cv === undefined) continue;
        const prev = out.get(name);
        out.set(name, prev === undefined ? cv : mergeDocs(prev, cv, first));
      }
    }
    return out;
  }

  /** The rules of a node that can match, using the node's index when it has one. */
  protected candidateRules(node: RuleNode): readonly CompiledRule[] {
    const ix = node.index;
    if (!ix || !ix.ref) return node.rules;
    let v: Value | undefined;
    this.evalTerm(ix.ref, EMPTY_ENV, (x) => {
      v = x;
      return true;
    });
    return candidates(ix, v);
  }

  /** Evaluates a rule body then its else chain, calling k with each value produced. */
  protected evalRuleClauses(r: CompiledRule, env: Bindings, k: VK): void {
    const prev = this.currentRule;
    this.currentRule = r;
    try {
      this.evalRuleClausesIn(r, env, k);
    } finally {
      this.currentRule = prev;
    }
  }

  /** The rule whose body is being evaluated (rego.metadata.* answer for it). */
  protected currentRule: CompiledRule | undefined;

  /** Rule nesting of the trace events (0: the query). */
  protected traceDepth = 0;

  protected evalRuleClausesIn(r: CompiledRule, env: Bindings, k: VK): void {
    const tracer = this.opts.tracer;
    if (!tracer) return this.evalRuleClausesUntraced(r, env, k);
    tracer({ op: 'enter', type: 'rule', location: r.loc, depth: this.traceDepth++, rule: r.path });
    try {
      this.evalRuleClausesUntraced(r, env, (v) => {
        tracer({ op: 'exit', type: 'rule', location: r.loc, depth: this.traceDepth - 1, rule: r.path });
        return k(v);
      });
    } finally {
      this.traceDepth--;
    }
  }

  private evalRuleClausesUntraced(r: CompiledRule, env: Bindings, k: VK): void {
    const mark = this.quickBound.length;
    const i = this.quickBody(r.body, env);
    let any = false;
    if (i === r.body.length) {
      const v = this.quick(r.value, env);
      if (v !== SLOW) {
        if (v !== undefined) {
          any = true;
          k(v);
        }
      } else {
        this.evalTerm(r.value, env, (x) => {
          any = true;
          k(x);
        });
      }
    } else if (i >= 0) {
      // The rest of the body, from the first literal that enumerates.
      this.evalBody(r.body, i, env, () =>
        this.evalTerm(r.value, env, (v) => {
          any = true;
          k(v);
        }),
      );
    }
    this.unbindTo(env, mark);
    if (any || r.elses.length === 0) return;
    this.evalElses(r, env, k);
  }

  protected evalElses(r: CompiledRule, env: Bindings, k: VK): void {
    let any = false;
    for (const e of r.elses) {
      this.evalBody(e.body, 0, env, () =>
        this.evalTerm(e.value, env, (v) => {
          any = true;
          k(v);
        }),
      );
      if (any) return;
    }
  }

  protected callFunction(path: readonly string[], args: Value[], at: CallTerm): Value | undefined {
    const node = this.functionNode(path);
    if (!node) return undefined;
    let result: Value | undefined;
    const rules = node.index ? candidates(node.index, args[0]) : node.rules;
    const env = borrowBindings();
    for (const r of rules) {
      env.clear();
      this.unifyArgs(r.args!, args, 0, env, () => {
        this.evalRuleClauses(r, env, (v) => {
          if (result !== undefined && !equal(result, v)) throw conflict('functions must not produce multiple outputs for same inputs', at);
          result = v;
        });
      });
    }
    if (result === undefined && node.defaults.length) {
      const d = node.defaults[0]!;
      env.clear();
      this.unifyArgs(d.args!, args, 0, env, () =>
        this.evalTerm(d.value, env, (v) => {
          result = v;
          return true;
        }),
      );
    }
    releaseBindings(env);
    return result;
  }

  /** Function nodes by target path (the path array of a compiled call is a stable key). */
  protected functionNode(path: readonly string[]): RuleNode | undefined {
    let n = FUNCTION_NODES.get(path);
    if (n === undefined) {
      n = nodeAt(this.opts.root, path, false) ?? null;
      FUNCTION_NODES.set(path, n);
    }
    return n ?? undefined;
  }

  protected unifyArgs(terms: readonly T[], vals: Value[], i: number, env: Bindings, k: K): boolean | void {
    if (i === terms.length) return k();
    return this.unifyValue(terms[i]!, vals[i]!, env, () => this.unifyArgs(terms, vals, i + 1, env, k));
  }

  /** rego.metadata.chain() / rego.metadata.rule() for the rule being evaluated. */
  protected metadata(chain: boolean): Value | undefined {
    const r = this.currentRule;
    if (!chain) return r?.annotations ?? new RegoObject();
    if (!r) return [];
    const node = nodeAt(this.opts.root, r.path, false);
    const entry = (path: readonly string[], ann: Value | undefined): Value => {
      const o = new RegoObject();
      o.set('path', [...path]);
      if (ann !== undefined) o.set('annotations', ann);
      return o;
    };
    const own = r.annotations instanceof RegoObject && r.annotations.get('scope') !== 'document' ? r.annotations : undefined;
    const out: Value[] = [entry(r.path, own)];
    for (const other of [...(node?.rules ?? []), ...(node?.defaults ?? [])]) {
      const a = other.annotations;
      if (a instanceof RegoObject && a.get('scope') === 'document') out.push(entry(r.path, a));
    }
    const pkg = nodeAt(this.opts.root, r.pkg, false);
    if (pkg?.pkgAnnotations !== undefined) out.push(entry(r.pkg, pkg.pkgAnnotations));
    return out;
  }
}
