import type { Body, CallTarget, Expr, Location, RegoVersion, Term as T, WithModifier } from '../ast';
import { Term } from '../ast';
import type { RegoErrorDetail } from '../errors';
import { RegoObject, RegoSet, type Value } from '../value';

/** Names visible in a module: rule names of its package and import aliases -> root path. */
export type Globals = ReadonlyMap<string, readonly string[]>;

interface Scope {
  readonly declared: Map<string, string>;
  /** `some x` declarations not used yet (OPA: "declared var x unused"). */
  readonly unused?: Map<string, Location>;
  /** Undeclared vars used so far: `:=` may not introduce one of these afterwards. */
  readonly seen?: Set<string>;
  readonly parent: Scope | undefined;
  /** Nested scopes rename declared vars so they cannot clash with the enclosing body. */
  readonly nested: boolean;
}

let counter = 0;

/** Built-ins the evaluator answers itself (they need the rule being evaluated). */
export const ENGINE_BUILTINS: ReadonlySet<string> = new Set(['rego.metadata.chain', 'rego.metadata.rule']);

/**
 * Resolves names in rule bodies (OPA's compiler stages resolveAllRefs + rewriteLocalVars):
 * rule names and imports become data/input refs, declared vars of nested bodies get unique
 * names, calls get their target, and ground composite literals are folded into values.
 */
export class Rewriter {
  constructor(
    private readonly globals: Globals,
    private readonly isBuiltin: (name: string) => boolean,
    private readonly errors: RegoErrorDetail[],
    /** v0 lets a local var shadow `input`/`data` (v1: "cannot assign to input"). */
    private readonly regoVersion: RegoVersion = 'v1',
  ) {}

  newScope(parent?: Scope, nested = false): Scope {
    return { declared: new Map(), unused: new Map(), seen: new Set(), parent, nested };
  }

  /** Reports `some` declarations of the scope that nothing used. */
  reportUnused(scope: Scope): void {
    for (const [name, loc] of scope.unused ?? []) this.error('rego_compile_error', `declared var ${name} unused`, loc);
    scope.unused?.clear();
  }

  declare(scope: Scope, name: string, loc: Location, assign: boolean): void {
    if (name.startsWith('$')) return;
    if (scope.declared.has(name)) {
      if (assign) this.error('rego_compile_error', `var ${name} assigned above`, loc);
      return;
    }
    // A local `input`/`data` (v0) is renamed: the evaluator reads those names as the documents.
    scope.declared.set(name, scope.nested || name === 'input' || name === 'data' ? `${name}__${counter++}` : name);
  }

  private lookup(scope: Scope | undefined, name: string): string | undefined {
    for (let s = scope; s; s = s.parent) {
      const v = s.declared.get(name);
      if (v !== undefined) {
        s.unused?.delete(name);
        return v;
      }
    }
    return undefined;
  }

  error(code: RegoErrorDetail['code'], message: string, loc: Location): void {
    this.errors.push({ code, message, location: loc });
  }

  body(body: Body, scope: Scope): Body {
    const out: Expr[] = [];
    for (const e of body) {
      const r = this.expr(e, scope);
      if (r) out.push(r);
    }
    return out;
  }

  private withs(ws: readonly WithModifier[], scope: Scope): WithModifier[] {
    return ws.map((w) => ({ ...w, target: this.withTarget(w.target, scope), value: this.term(w.value, scope) }));
  }

  /** `with` targets keep input/data roots; a bare function name resolves to its full path. */
  private withTarget(t: T, scope: Scope): T {
    const head = t.kind === 'ref' ? t.head : t;
    if (head.kind === 'var' && (head.name === 'input' || head.name === 'data')) return t;
    if (head.kind === 'var' && this.globals.has(head.name) && !this.lookup(scope, head.name)) return this.term(t, scope);
    const parts = opParts(t);
    if (!parts || !this.isBuiltin(parts.join('.'))) {
      this.error('rego_compile_error', 'with keyword target must reference existing input, data, or a function', t.loc);
    }
    return t;
  }

  private expr(e: Expr, scope: Scope): Expr | undefined {
    switch (e.kind) {
      case 'some':
        for (const v of e.vars) {
          const fresh = !scope.declared.has(v);
          this.declare(scope, v, e.loc, false);
          if (fresh && !v.startsWith('$')) scope.unused?.set(v, e.loc);
        }
        return undefined;
      case 'somein': {
        const domain = this.term(e.domain, scope);
        const vars = new Set<string>();
        if (e.key) patternVars(e.key, vars);
        patternVars(e.value, vars);
        for (const v of vars) this.declare(scope, v, e.loc, false);
        return {
          ...e,
          domain,
          key: e.key ? this.term(e.key, scope) : undefined,
          value: this.term(e.value, scope),
          with: this.withs(e.with, scope),
        };
      }
      case 'every': {
        const domain = this.term(e.domain, scope);
        const inner = this.newScope(scope, true);
        if (e.key) this.declare(inner, (e.key as { name: string }).name, e.loc, false);
        this.declare(inner, (e.value as { name: string }).name, e.loc, false);
        const key = e.key ? this.term(e.key, inner) : undefined;
        const value = this.term(e.value, inner);
        const body = this.body(e.body, inner);
        this.reportUnused(inner);
        return { ...e, domain, key, value, body, with: this.withs(e.with, scope) };
      }
      case 'term': {
        const t = e.term;
        if (t.kind === 'call' && t.op.kind === 'var' && t.op.name === 'assign' && t.args.length === 2) {
          const rhs = this.term(t.args[1]!, scope);
          const vars = new Set<string>();
          const lhs0 = t.args[0]!;
          if (!patternVars(lhs0, vars)) {
            this.error('rego_compile_error', `cannot assign to ${describeTerm(lhs0)}`, e.loc);
          }
          for (const v of vars) {
            if ((v === 'input' || v === 'data') && this.regoVersion === 'v1') this.error('rego_compile_error', `cannot assign to ${v}`, e.loc);
            else if (scope.seen?.has(v) && !scope.declared.has(v)) this.error('rego_compile_error', `var ${v} referenced above`, e.loc);
            this.declare(scope, v, e.loc, true);
          }
          const lhs = this.term(lhs0, scope);
          return { ...e, term: { ...t, args: [lhs, rhs], target: { kind: 'builtin', name: 'assign' } }, with: this.withs(e.with, scope) };
        }
        return { ...e, term: this.term(t, scope), with: this.withs(e.with, scope) };
      }
    }
  }

  term(t: T, scope: Scope): T {
    switch (t.kind) {
      case 'scalar':
        return t;
      case 'var': {
        const local = this.lookup(scope, t.name);
        if (local !== undefined) return local === t.name ? t : Term.var(local, t.loc);
        const g = this.globals.get(t.name);
        if (g) return pathRef(g, t.loc);
        if (!t.name.startsWith('$')) scope.seen?.add(t.name);
        return t;
      }
      case 'ref': {
        const head = this.term(t.head, scope);
        const path = t.path.map((p) => this.term(p, scope));
        if (head.kind === 'ref') return fold({ ...t, head: head.head, path: [...head.path, ...path] });
        return { ...t, head, path };
      }
      case 'array':
        return fold({ ...t, items: t.items.map((x) => this.term(x, scope)) });
      case 'set':
        return fold({ ...t, items: t.items.map((x) => this.term(x, scope)) });
      case 'object':
        return fold({ ...t, entries: t.entries.map(([k, v]) => [this.term(k, scope), this.term(v, scope)] as const) });
      case 'template':
        return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : this.term(p, scope))) };
      case 'call': {
        const args = t.args.map((a) => this.term(a, scope));
        return { ...t, args, target: t.target ?? this.target(t.op, scope, args.length, t.loc) };
      }
      case 'arraycomp':
      case 'setcomp': {
        const inner = this.newScope(scope, true);
        const body = this.body(t.body, inner);
        const head = this.term(t.head, inner);
        this.reportUnused(inner);
        return { ...t, body, head };
      }
      case 'objectcomp': {
        const inner = this.newScope(scope, true);
        const body = this.body(t.body, inner);
        const key = this.term(t.key, inner);
        const value = this.term(t.value, inner);
        this.reportUnused(inner);
        return { ...t, body, key, value };
      }
    }
  }

  private target(op: T, scope: Scope, _nargs: number, loc: Location): CallTarget {
    const parts = opParts(op);
    if (!parts) {
      this.error('rego_type_error', `invalid function call`, loc);
      return { kind: 'builtin', name: '?' };
    }
    const head = parts[0]!;
    if (head === 'data') return { kind: 'function', path: parts.slice(1) };
    if (!this.lookup(scope, head)) {
      const g = this.globals.get(head);
      if (g && g[0] === 'data') return { kind: 'function', path: [...g.slice(1), ...parts.slice(1)] };
    }
    const name = parts.join('.');
    if (name === 'eq' || name === 'assign' || ENGINE_BUILTINS.has(name)) return { kind: 'builtin', name };
    if (!this.isBuiltin(name)) this.error('rego_type_error', `undefined function ${name}`, loc);
    return { kind: 'builtin', name };
  }
}

function opParts(op: T): string[] | undefined {
  if (op.kind === 'var') return [op.name];
  if (op.kind !== 'ref' || op.head.kind !== 'var') return undefined;
  const out = [op.head.name];
  for (const p of op.path) {
    if (p.kind !== 'scalar' || typeof p.value !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}

export function pathRef(path: readonly string[], loc: Location): T {
  const head = Term.var(path[0]!, loc);
  if (path.length === 1) return head;
  return Term.ref(head, path.slice(1).map((s) => Term.scalar(s, loc)), loc);
}

/** Vars a pattern (lhs of :=, some ... in) binds; false if it is not a pattern. */
function patternVars(t: T, out: Set<string>): boolean {
  switch (t.kind) {
    case 'var':
      out.add(t.name);
      return true;
    case 'array':
      return t.items.every((x) => patternVars(x, out));
    case 'object':
      return t.entries.every(([, v]) => patternVars(v, out));
    case 'scalar':
      return true;
    default:
      return false;
  }
}

function describeTerm(t: T): string {
  return t.kind === 'ref' ? 'ref' : t.kind;
}

/** Replaces a composite literal whose parts are all constants by one constant. */
function fold(t: T): T {
  switch (t.kind) {
    case 'array':
      if (t.items.every((x) => x.kind === 'scalar')) {
        return Term.scalar(t.items.map((x) => (x as { value: Value }).value), t.loc);
      }
      return t;
    case 'set':
      if (t.items.every((x) => x.kind === 'scalar')) {
        return Term.scalar(new RegoSet(t.items.map((x) => (x as { value: Value }).value)), t.loc);
      }
      return t;
    case 'object':
      if (t.entries.every(([k, v]) => k.kind === 'scalar' && v.kind === 'scalar')) {
        const o = new RegoObject();
        for (const [k, v] of t.entries) o.set((k as { value: Value }).value, (v as { value: Value }).value);
        return Term.scalar(o, t.loc);
      }
      return t;
    default:
      return t;
  }
}

