import type { BuiltinRegistry } from '../builtins';
import type { CompiledPolicy } from '../compiler/compile';
import type { CompiledQuery } from '../compiler/query';
import type { Body } from '../ast';
import type { Evaluator } from '../eval/evaluator';
import { nodeAt, type RuleNode } from '../compiler/rule-tree';
import { toJSON } from '../value';
import { PartialEvaluator, type Residual } from './evaluate';
import { groundPrefix, parseUnknown } from './terms';

/**
 * Partial evaluation of a compiled query: `unknowns` are refs (`input.fruits`, `data.tables.t`)
 * whose values are left open; `ev` evaluates everything else with the request's input and data.
 */
export function partialEvaluate(policy: CompiledPolicy, registry: BuiltinRegistry, query: CompiledQuery, ev: Evaluator, unknowns: readonly string[] | undefined): Residual {
  const paths = (unknowns ?? annotatedUnknowns(policy.root, query.body) ?? ['input']).map(parseUnknown);
  const arity = (name: string): number | undefined => {
    const d = registry.get(name);
    return d && !d.variadic ? d.arity : undefined;
  };
  return new PartialEvaluator(policy.root, ev, paths, arity).run(query.body, query.outputVars);
}

/**
 * The unknowns a queried rule declares in its METADATA (`compile: {unknowns: [...]}`), as OPA's
 * and EOPA's Compile API read them when the request names none. Only for a query that is a
 * single data ref.
 */
function annotatedUnknowns(root: RuleNode, body: Body): string[] | undefined {
  const e = body.length === 1 ? body[0]! : undefined;
  if (!e || e.kind !== 'term' || e.negated) return undefined;
  const g = groundPrefix(e.term);
  if (!g?.complete || g.segs[0] !== 'data') return undefined;
  const node = nodeAt(root, g.segs.slice(1), false);
  for (const r of node ? [...node.rules, ...node.defaults] : []) {
    const meta = r.annotations === undefined ? undefined : (toJSON(r.annotations) as { compile?: { unknowns?: unknown } });
    const list = meta?.compile?.unknowns;
    if (Array.isArray(list) && list.every((u) => typeof u === 'string')) return list as string[];
  }
  return undefined;
}
