import type { Body, CallTarget, Expr, Module, RegoVersion, Rule, Term as T } from '../ast';
import { Term, forEachChild, forEachExprPart } from '../ast';
import type { BuiltinRegistry } from '../builtins';
import { RegoError, type RegoErrorDetail } from '../errors';
import { parseModule } from '../parser';
import { allVarsOfTerm } from './vars';
import { buildRuleIndex } from './rule-index';
import { normalizeBody, normalizeTerm } from './normalize';
import { equal, fromJSON, type Value } from '../value';
import { Rewriter } from './rewrite';
import { Safety } from './safety';
import { checkRecursion } from './recursion';
import { newNode, nodeAt, ruleName, type CompiledRule, type RuleNode } from './rule-tree';

export interface SourceModule {
  readonly file: string;
  readonly source: string;
  /** This module's Rego version, over the default of the whole set (a bundle's per-file choice). */
  readonly regoVersion?: RegoVersion;
}

export interface CompiledPolicy {
  readonly root: RuleNode;
  readonly modules: readonly Module[];
  /** Arity of user functions by path key (for query compilation). */
  readonly functionArity: ReadonlyMap<string, number>;
}

const TRUE = (loc: T['loc']): T => Term.scalar(true, loc);

/**
 * The built-ins a module of this version may call: v1 modules do not see the deprecated ones
 * (OPA 1.x removed them), v0 modules see all.
 */
export function builtinsFor(registry: BuiltinRegistry, version: RegoVersion): (name: string) => boolean {
  if (version === 'v0') return (n) => registry.has(n);
  return (n) => registry.get(n)?.deprecated !== true && registry.has(n);
}

/**
 * Parses and compiles modules into a rule tree; throws RegoError with all errors found.
 * `defaultVersion` is the Rego version of modules that do not name their own.
 */
export function compilePolicy(sources: readonly SourceModule[], registry: BuiltinRegistry, defaultVersion: RegoVersion = 'v1'): CompiledPolicy {
  const modules: Module[] = [];
  const parseErrors: RegoErrorDetail[] = [];
  for (const s of sources) {
    try {
      modules.push(parseModule(s.source, s.file, s.regoVersion ?? defaultVersion));
    } catch (e) {
      if (e instanceof RegoError) parseErrors.push(...e.errors);
      else throw e;
    }
  }
  if (parseErrors.length) throw fail(parseErrors);

  // Rule names per package (OPA: rules of a package are visible unqualified in all its modules).
  const pkgNames = new Map<string, Set<string>>();
  const functionArity = new Map<string, number>();
  for (const m of modules) {
    const key = m.pkg.join('.');
    let names = pkgNames.get(key);
    if (!names) pkgNames.set(key, (names = new Set()));
    for (const r of m.rules) {
      const h = r.ref[0]!;
      if (h.kind === 'var') names.add(h.name);
      if (r.args) {
        const p = groundPrefix(m.pkg, r.ref);
        if (p.tail.length === 0) functionArity.set(p.path.join('.'), r.args.length);
      }
    }
  }

  const errors: RegoErrorDetail[] = [];
  const arityOf = (t: CallTarget): number | undefined => {
    if (t.kind === 'builtin') {
      const d = registry.get(t.name);
      return d && !d.variadic ? d.arity : undefined;
    }
    return functionArity.get(t.path.join('.'));
  };
  const root = newNode([]);
  let order = 0;
  for (const m of modules) {
    const n = nodeAt(root, m.pkg, true)!;
    n.isPackage = true;
    if (m.annotations) n.pkgAnnotations = fromJSON(m.annotations);
  }
  for (const m of modules) {
    const globals = new Map<string, readonly string[]>();
    for (const n of pkgNames.get(m.pkg.join('.')) ?? []) globals.set(n, ['data', ...m.pkg, n]);
    for (const imp of m.imports) globals.set(imp.alias, termPath(imp.path));
    const isBuiltin = builtinsFor(registry, m.regoVersion);
    const rw = new Rewriter(globals, isBuiltin, errors, m.regoVersion);
    const safety = new Safety(arityOf, errors, isBuiltin);
    for (const r of m.rules) {
      const cr = compileRule(m, r, rw, safety, order++, errors);
      if (!cr) continue;
      const node = nodeAt(root, cr.path, true)!;
      (cr.isDefault ? node.defaults : node.rules).push(cr);
    }
  }
  markRules(root);
  checkConflicts(root, errors);
  checkCalls(root, registry, errors);
  if (!errors.length) checkRecursion(root, errors, (n) => registry.get(n)?.nondeterministic === true);
  if (errors.length) throw fail(errors);
  prepareNodes(root);
  return { root, modules, functionArity };
}

function fail(errors: RegoErrorDetail[]): RegoError {
  const first = errors[0]!;
  const msg = errors.length === 1 ? first.message : `${errors.length} errors occurred`;
  return new RegoError(first.code, msg, { location: first.location, errors });
}

function termPath(t: T): string[] {
  if (t.kind === 'var') return [t.name];
  if (t.kind !== 'ref' || t.head.kind !== 'var') return [];
  return [t.head.name, ...t.path.map((p) => (p.kind === 'scalar' ? String(p.value) : p.kind === 'var' ? p.name : '?'))];
}

function groundPrefix(pkg: readonly string[], ref: readonly T[]): { path: string[]; tail: T[] } {
  const path = [...pkg, (ref[0] as { name: string }).name];
  let i = 1;
  for (; i < ref.length; i++) {
    const t = ref[i]!;
    if (t.kind === 'scalar' && typeof t.value === 'string') path.push(t.value);
    else break;
  }
  return { path, tail: ref.slice(i) };
}

function compileRule(m: Module, r: Rule, rw: Rewriter, safety: Safety, order: number, errors: RegoErrorDetail[]): CompiledRule | undefined {
  const head = r.ref[0]!;
  if (head.kind !== 'var') {
    errors.push({ code: 'rego_parse_error', message: 'invalid rule head', location: r.loc });
    return undefined;
  }
  const { path, tail: rawTail } = groundPrefix(m.pkg, r.ref);
  const kind: CompiledRule['kind'] = r.args ? 'function' : r.contains ? 'multi' : 'complete';
  if (r.isDefault && rawTail.some((t) => allVarsOfTerm(t, new Set()).size > 0)) {
    errors.push({ code: 'rego_type_error', message: `default rules must not have variables in their head`, location: r.loc });
  }

  const clause = (value: T | undefined, body: Body): { value: T; body: Body; tail: T[]; args: T[] | undefined } => {
    const scope = rw.newScope();
    const bound = new Set<string>();
    let args: T[] | undefined;
    const extra: Expr[] = [];
    if (r.args) {
      // Template strings and calls in argument position are computed from the body (OPA
      // rewrites them to a fresh arg var compared at the end of the body).
      const rawArgs = r.args.map((a, i) => {
        if (a.kind !== 'template' && a.kind !== 'call') return a;
        const v = Term.var(`__arg${i}__`, a.loc);
        extra.push({ kind: 'term', term: { kind: 'call', op: Term.var('eq', a.loc), args: [v, a], loc: a.loc }, negated: false, with: [], loc: a.loc });
        return v;
      });
      for (const a of rawArgs) allVarsOfTerm(a, bound);
      for (const v of bound) rw.declare(scope, v, r.loc, false);
      args = rawArgs.map((a) => rw.term(a, scope));
    }
    const b = rw.body([...body, ...extra], scope);
    const ordered = safety.body(b, bound, r.loc);
    const tail = rawTail.map((t) => safety.term(rw.term(t, scope), bound, r.loc));
    const v = safety.term(rw.term(value ?? TRUE(r.loc), scope), bound, r.loc);
    rw.reportUnused(scope);
    return { value: v, body: ordered, tail, args };
  };

  const main = clause(r.contains ?? r.value, r.body);
  const elses = r.elses.map((e) => {
    const c = clause(e.value ?? TRUE(e.loc), e.body);
    return { value: c.value, body: c.body };
  });
  return {
    kind,
    path,
    tail: main.tail.map(normalizeTerm),
    args: main.args?.map(normalizeTerm),
    value: normalizeTerm(main.value),
    body: normalizeBody(main.body),
    elses: elses.map((e) => ({ value: normalizeTerm(e.value), body: normalizeBody(e.body) })),
    isDefault: r.isDefault,
    loc: r.loc,
    order,
    pkg: m.pkg,
    annotations: r.annotations ? fromJSON(r.annotations) : undefined,
  };
}

/** Builds rule indexes and folds constant rules once, so evaluation does neither. */
function prepareNodes(n: RuleNode): void {
  if (n.rules.length) {
    n.index = buildRuleIndex(n.rules);
    const allConst = n.rules.every((r) => r.kind === 'complete' && r.tail.length === 0 && r.body.length === 0 && r.elses.length === 0 && r.value.kind === 'scalar');
    if (allConst) {
      const first = (n.rules[0]!.value as { value: Value }).value;
      if (n.rules.every((r) => equal((r.value as { value: Value }).value, first))) n.constValue = first;
    }
  }
  for (const c of n.children.values()) prepareNodes(c);
}

function markRules(n: RuleNode): boolean {
  let any = n.rules.length > 0 || n.defaults.length > 0 || n.isPackage;
  for (const c of n.children.values()) if (markRules(c)) any = true;
  n.hasRules = any;
  return any;
}

/** OPA's checkRuleConflicts: one kind per rule path, one default, one function arity. */
function checkConflicts(n: RuleNode, errors: RegoErrorDetail[]): void {
  const all = [...n.rules, ...n.defaults];
  if (all.length) {
    const name = ruleName(n.path);
    const kinds = new Set(all.map((r) => (r.kind === 'complete' && r.tail.length ? 'object' : r.kind)));
    const arities = new Set(all.filter((r) => r.kind === 'function').map((r) => r.args!.length));
    if (kinds.size > 1 || arities.size > 1) {
      errors.push({ code: 'rego_type_error', message: `conflicting rules ${name} found`, location: all[0]!.loc });
    }
    if (n.defaults.length > 1) {
      errors.push({ code: 'rego_type_error', message: `multiple default rules ${name} found`, location: n.defaults[1]!.loc });
    }
    const complete = all.some((r) => r.kind !== 'function' && r.tail.length === 0 && r.kind === 'complete');
    if (complete) {
      for (const c of n.children.values()) {
        if (c.hasRules) {
          errors.push({ code: 'rego_type_error', message: `rule ${name} conflicts with [${ruleName(c.path)}]`, location: all[0]!.loc });
          break;
        }
      }
    }
  }
  for (const c of n.children.values()) checkConflicts(c, errors);
}

/** Calls to user functions must name a function; calls must match the callee's arity. */
function checkCalls(root: RuleNode, registry: BuiltinRegistry, errors: RegoErrorDetail[], only?: readonly CompiledRule[]): void {
  const visit = (t: T): void => {
    switch (t.kind) {
      case 'call': {
        if (t.target?.kind === 'function') {
          const n = nodeAt(root, t.target.path, false);
          const r = n && (n.rules[0] ?? n.defaults[0]);
          if (!r || r.kind !== 'function') {
            const name = t.target.path.join('.');
            if (!registry.has(name)) errors.push({ code: 'rego_type_error', message: `undefined function data.${name}`, location: t.loc });
          } else if (t.args.length !== r.args!.length && t.args.length !== r.args!.length + 1) {
            errors.push({
              code: 'rego_type_error',
              message: `function data.${t.target.path.join('.')} has arity ${r.args!.length}, got ${t.args.length} arguments`,
              location: t.loc,
            });
          }
        } else if (t.target?.kind === 'builtin') {
          const d = registry.get(t.target.name);
          if (d && !d.variadic && t.args.length !== d.arity && t.args.length !== d.arity + 1 && t.target.name !== 'eq' && t.target.name !== 'assign') {
            errors.push({
              code: 'rego_type_error',
              message: `${t.target.name}: ${t.args.length > d.arity ? 'too many' : 'too few'} arguments`,
              location: t.loc,
            });
          }
        }
        t.args.forEach(visit);
        break;
      }
      default:
        forEachChild(t, visit, visitBody);
    }
  };
  const visitBody = (b: Body): void => {
    for (const e of b) forEachExprPart(e, visit, visitBody);
  };
  const checkRule = (r: CompiledRule): void => {
    visitBody(r.body);
    visit(r.value);
    for (const e of r.elses) {
      visitBody(e.body);
      visit(e.value);
    }
  };
  if (only) {
    only.forEach(checkRule);
    return;
  }
  const walk = (n: RuleNode): void => {
    for (const r of [...n.rules, ...n.defaults]) {
      visitBody(r.body);
      visit(r.value);
      for (const e of r.elses) {
        visitBody(e.body);
        visit(e.value);
      }
    }
    for (const c of n.children.values()) walk(c);
  };
  walk(root);
}

export { checkCalls };
