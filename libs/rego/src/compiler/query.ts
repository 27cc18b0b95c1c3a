import type { Body, CallTarget, RegoVersion } from '../ast';
import type { BuiltinRegistry } from '../builtins';
import { RegoError, type RegoErrorDetail } from '../errors';
import { parseQuery } from '../parser';
import { Rewriter } from './rewrite';
import { Safety } from './safety';
import { allVarsOfBody } from './vars';
import { builtinsFor, checkCalls, type CompiledPolicy } from './compile';
import type { CompiledRule } from './rule-tree';
import { normalizeBody } from './normalize';

export interface CompiledQuery {
  readonly body: Body;
  /** Vars reported in results (as written; wildcards and generated vars left out). */
  readonly outputVars: readonly string[];
}

/** Parses and compiles an ad-hoc query (in the policy set's default Rego version) against a compiled policy. */
export function compileQuery(text: string, policy: CompiledPolicy, registry: BuiltinRegistry, regoVersion: RegoVersion = 'v1'): CompiledQuery {
  const parsed = parseQuery(text, 'query', regoVersion);
  const errors: RegoErrorDetail[] = [];
  const isBuiltin = builtinsFor(registry, regoVersion);
  const rw = new Rewriter(new Map(), isBuiltin, errors, regoVersion);
  const scope = rw.newScope();
  const body = rw.body(parsed, scope);
  rw.reportUnused(scope);
  const arityOf = (t: CallTarget): number | undefined => {
    if (t.kind === 'builtin') {
      const d = registry.get(t.name);
      return d && !d.variadic ? d.arity : undefined;
    }
    return policy.functionArity.get(t.path.join('.'));
  };
  const ordered = new Safety(arityOf, errors, isBuiltin).body(body, new Set(), parsed[0]!.loc);
  if (!errors.length) {
    const loc = parsed[0]!.loc;
    const rule: CompiledRule = { kind: 'complete', path: [], tail: [], args: undefined, value: { kind: 'scalar', value: true, loc }, body: ordered, elses: [], isDefault: false, loc, order: 0, pkg: [], annotations: undefined };
    checkCalls(policy.root, registry, errors, [rule]);
  }
  if (errors.length) {
    const first = errors[0]!;
    throw new RegoError(first.code, errors.length === 1 ? first.message : `${errors.length} errors occurred`, { location: first.location, errors });
  }
  const outputVars = [...allVarsOfBody(ordered, new Set())].filter((v) => !v.startsWith('$') && !v.includes('__')).sort();
  return { body: normalizeBody(ordered), outputVars };
}
