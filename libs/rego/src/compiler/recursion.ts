import { forEachChild, forEachExprPart, type Body, type Term as T } from '../ast';
import type { RegoErrorDetail } from '../errors';
import { ruleName, type RuleNode } from './rule-tree';

/**
 * OPA's checkRecursion: a rule may not depend on itself through refs to data or function
 * calls. Dependencies are computed between rule nodes (every rule of a path together).
 */
export function checkRecursion(root: RuleNode, errors: RegoErrorDetail[], isNondeterministic: (name: string) => boolean = () => false): void {
  const ruleNodes: RuleNode[] = [];
  // Nodes whose own rules read input, call a non-deterministic built-in, use `with`, or read
  // data through a dynamic ref: their values may differ between evaluations over one data.
  const impure = new Set<RuleNode>();
  const collect = (n: RuleNode): void => {
    if (n.rules.length || n.defaults.length) ruleNodes.push(n);
    for (const c of n.children.values()) collect(c);
  };
  collect(root);

  const deps = new Map<RuleNode, Set<RuleNode>>();
  const depsOf = (n: RuleNode): Set<RuleNode> => {
    let d = deps.get(n);
    if (d) return d;
    d = new Set();
    const addPrefix = (prefix: readonly string[]): void => {
      // Rules at an ancestor of the prefix, and every rule below it.
      let cur: RuleNode | undefined = root;
      for (const seg of prefix) {
        if (cur.rules.length || cur.defaults.length) d!.add(cur);
        cur = cur.children.get(seg);
        if (!cur) return;
      }
      const all = (x: RuleNode): void => {
        if (x.rules.length || x.defaults.length) d!.add(x);
        for (const c of x.children.values()) all(c);
      };
      all(cur);
    };
    const visit = (t: T): void => {
      switch (t.kind) {
        case 'var':
          if (t.name === 'input') impure.add(n);
          break;
        case 'ref':
          if (t.head.kind === 'var' && t.head.name === 'input') impure.add(n);
          if (t.head.kind === 'var' && t.head.name === 'data') {
            const prefix: string[] = [];
            for (const p of t.path) {
              if (p.kind === 'scalar' && (typeof p.value === 'string' || typeof p.value === 'number')) prefix.push(String(p.value));
              else break;
            }
            // `data[x]` could be anything: OPA does not count it as a dependency on every rule.
            if (prefix.length) addPrefix(prefix);
            else impure.add(n);
          } else visit(t.head);
          t.path.forEach(visit);
          break;
        case 'call':
          if (t.target?.kind === 'function') addPrefix(t.target.path);
          if (t.target?.kind === 'builtin' && (isNondeterministic(t.target.name) || t.target.name === 'print' || t.target.name.startsWith('rego.metadata'))) impure.add(n);
          t.args.forEach(visit);
          break;
        default:
          forEachChild(t, visit, visitBody);
      }
    };
    const visitBody = (b: Body): void => {
      for (const e of b) {
        forEachExprPart(e, visit, visitBody);
        if (e.with.length) impure.add(n);
      }
    };
    for (const r of [...n.rules, ...n.defaults]) {
      visitBody(r.body);
      visit(r.value);
      r.tail.forEach(visit);
      for (const e of r.elses) {
        visitBody(e.body);
        visit(e.value);
      }
    }
    deps.set(n, d);
    return d;
  };

  const state = new Map<RuleNode, 1 | 2>();
  const stack: RuleNode[] = [];
  const reported = new Set<RuleNode>();
  const dfs = (n: RuleNode): void => {
    state.set(n, 1);
    stack.push(n);
    for (const d of depsOf(n)) {
      const s = state.get(d);
      if (s === 1) {
        if (!reported.has(d)) {
          reported.add(d);
          const cycle = stack.slice(stack.indexOf(d)).map((x) => ruleName(x.path));
          const r = d.rules[0] ?? d.defaults[0]!;
          errors.push({
            code: 'rego_recursion_error',
            message: `rule ${ruleName(d.path)} is recursive: ${[...cycle, ruleName(d.path)].join(' -> ')}`,
            location: r.loc,
          });
        }
      } else if (s === undefined) dfs(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of ruleNodes) if (!state.has(n)) dfs(n);
  if (errors.length) return;
  // A node is static when neither it nor anything it depends on is impure.
  const memo = new Map<RuleNode, boolean>();
  const isStatic = (n: RuleNode): boolean => {
    const m = memo.get(n);
    if (m !== undefined) return m;
    memo.set(n, false);
    let ok = !impure.has(n);
    if (ok) for (const d of depsOf(n)) if (d !== n && !isStatic(d)) ok = false;
    memo.set(n, ok);
    return ok;
  };
  for (const n of ruleNodes) n.isStatic = isStatic(n);
}
