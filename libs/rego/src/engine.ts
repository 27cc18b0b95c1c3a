import { createBuiltinRegistry, type BuiltinRegistry } from './builtins';
import { LazyBuiltinContext } from './eval/context';
import { compilePolicy, type CompiledPolicy } from './compiler/compile';
import { compileQuery, type CompiledQuery } from './compiler/query';
import { Evaluator } from './eval/evaluator';
import { Bindings } from './eval/bindings';
import { rootFrame } from './eval/frame';
import { RegoError } from './errors';
import { Parser } from './parser/parser';
import { Rewriter } from './compiler/rewrite';
import { RegoObject, fromJSON, toJSON, type Value } from './value';
import type { RegoVersion, Term } from './ast';
import { partialEvaluate } from './partial/run';
import type { Residual } from './partial';
import type { Tracer } from './eval/trace';

export interface RegoModule {
  readonly file: string;
  readonly source: string;
  /**
   * This module's Rego version, over `CompileOptions.regoVersion`: what a bundle manifest's
   * `rego_version` / `file_rego_versions` says of its files.
   */
  readonly regoVersion?: RegoVersion;
}
export interface CompileOptions {
  readonly strictBuiltinErrors?: boolean;
  /**
   * Rego version of modules that do not name their own, and of queries (default `v1`); `v0` is
   * OPA's `--v0-compatible`.
   */
  readonly regoVersion?: RegoVersion;
}
export interface EvalOptions {
  readonly input?: unknown;
  /**
   * Base documents (JSON) merged under data. Treated as immutable: its conversion and the
   * values of rules that depend only on data are cached by object identity, so pass a new
   * object when the data changes.
   */
  readonly data?: unknown;
  readonly builtinsOverride?: never;
  /** Step budget; exceeding it raises eval_cancel_error (guards against runaway policies). */
  readonly maxSteps?: number;
  /** Time budget in milliseconds; exceeding it raises eval_cancel_error. */
  readonly timeoutMs?: number;
  /** Environment visible to opa.runtime() (default: process.env). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives print() output (dropped when absent, as OPA does by default). */
  readonly print?: (message: string) => void;
  /**
   * The whole value of opa.runtime() (JSON), as OPA's runtime term; `{}` is what OPA answers
   * when it runs without one. Default: `{ env: <env> }`.
   */
  readonly runtime?: Readonly<Record<string, unknown>>;
  /** Receives the evaluation's trace events (OPA's explain); slower, for diagnosis only. */
  readonly trace?: Tracer;
}
export interface QueryOptions extends EvalOptions {
  /** Input given as Rego term source (OPA's input_term) instead of JSON. */
  readonly inputTerm?: string;
}
export interface PartialOptions extends EvalOptions {
  /**
   * Refs left unknown, e.g. `input.fruits` or `data.tables.t`. Absent: what the queried rule's
   * METADATA names (`compile: {unknowns: [...]}`), else `input` (OPA's defaults).
   */
  readonly unknowns?: readonly string[];
}
export type EvaluateResult = { defined: true; result: unknown } | { defined: false };

export interface PolicySet {
  evaluate(path: readonly string[], options?: EvalOptions): EvaluateResult;
  query(query: string, options?: QueryOptions): Array<Record<string, unknown>>;
  testRules(): ReadonlyArray<{ readonly path: readonly string[]; readonly name: string }>;
  /** Partial evaluation (OPA's Compile API): the query with `unknowns` left open, as residual queries. */
  partial(query: string, options: PartialOptions): Residual;
  /** Paths (below data) that rules define: base data may not be written at or under them. */
  rulePaths(): ReadonlyArray<readonly string[]>;
}

let sharedRegistry: BuiltinRegistry | undefined;
function registry(): BuiltinRegistry {
  return (sharedRegistry ??= createBuiltinRegistry());
}

/** Compiles Rego modules once; evaluation never re-parses (queries are cached by text). */
export function compileModules(modules: readonly RegoModule[], options: CompileOptions = {}): PolicySet {
  const reg = registry();
  const version = options.regoVersion ?? 'v1';
  const policy = compilePolicy(modules, reg, version);
  return new CompiledPolicySet(policy, reg, options.strictBuiltinErrors ?? false, version);
}

class CompiledPolicySet implements PolicySet {
  private readonly queries = new Map<string, CompiledQuery>();
  private readonly refs = new Map<string, Term>();
  private readonly refsByArray = new WeakMap<readonly string[], Term>();
  private readonly dataCache = new WeakMap<object, Value>();
  private lastDataJSON: unknown = undefined;
  private lastData: Value = new RegoObject();

  constructor(
    private readonly policy: CompiledPolicy,
    private readonly reg: BuiltinRegistry,
    private readonly strict: boolean,
    private readonly regoVersion: RegoVersion,
  ) {}

  private baseData(data: unknown): Value {
    if (data === undefined || data === null) return this.lastData instanceof RegoObject && this.lastDataJSON === undefined ? this.lastData : new RegoObject();
    if (data === this.lastDataJSON) return this.lastData;
    const v = typeof data === 'object' ? this.dataCache.get(data) : undefined;
    const out = v ?? fromJSON(data);
    if (typeof data === 'object' && !v) this.dataCache.set(data, out);
    this.lastDataJSON = data;
    this.lastData = out;
    return out;
  }

  private evaluator(options: EvalOptions, input: Value | undefined): Evaluator {
    const ctx = new LazyBuiltinContext(options.env, options.print, options.runtime === undefined ? undefined : fromJSON(options.runtime));
    return new Evaluator(
      { root: this.policy.root, registry: this.reg, strict: this.strict, ctx, maxSteps: options.maxSteps, timeoutMs: options.timeoutMs, tracer: options.trace },
      rootFrame(input, this.baseData(options.data)),
    );
  }

  evaluate(path: readonly string[], options: EvalOptions = {}): EvaluateResult {
    const input = options.input === undefined ? undefined : fromJSON(options.input);
    const ev = this.evaluator(options, input);
    let out: Value | undefined;
    // Callers usually pass the same path array each time: look it up by identity first.
    let ref = this.refsByArray.get(path);
    if (!ref) {
      const key = path.join('\u0000');
      ref = this.refs.get(key);
      if (!ref) {
        const refPath: Term[] = path.map((p) => ({ kind: 'scalar', value: p, loc: LOC }));
        ref = refPath.length ? { kind: 'ref', head: { kind: 'var', name: 'data', loc: LOC }, path: refPath, loc: LOC } : { kind: 'var', name: 'data', loc: LOC };
        if (this.refs.size >= MAX_CACHED_QUERIES) this.refs.clear();
        this.refs.set(key, ref);
      }
      this.refsByArray.set(path, ref);
    }
    guard(() =>
      ev.evalTerm(ref!, new Bindings(), (v) => {
        out = v;
        return true;
      }),
    );
    return out === undefined ? { defined: false } : { defined: true, result: toJSON(out) };
  }

  query(text: string, options: QueryOptions = {}): Array<Record<string, unknown>> {
    let q = this.queries.get(text);
    if (!q) {
      q = compileQuery(text, this.policy, this.reg, this.regoVersion);
      // Bounded: ad-hoc queries from clients must not grow the cache without limit.
      if (this.queries.size >= MAX_CACHED_QUERIES) this.queries.delete(this.queries.keys().next().value!);
      this.queries.set(text, q);
    }
    let input: Value | undefined = options.input === undefined ? undefined : fromJSON(options.input);
    if (options.inputTerm !== undefined) input = this.termValue(options.inputTerm);
    const ev = this.evaluator(options, input);
    const results: Array<Record<string, unknown>> = [];
    const env = new Bindings();
    const vars = q.outputVars;
    guard(() => ev.evalBody(q!.body, 0, env, () => {
      const row: Record<string, unknown> = {};
      for (const v of vars) {
        const val = env.get(v);
        if (val !== undefined) row[v] = toJSON(val);
      }
      results.push(row);
    }));
    return results;
  }

  partial(text: string, options: PartialOptions): Residual {
    const q = compileQuery(text, this.policy, this.reg, this.regoVersion);
    const input = options.input === undefined ? undefined : fromJSON(options.input);
    return partialEvaluate(this.policy, this.reg, q, this.evaluator(options, input), options.unknowns);
  }

  private termValue(src: string): Value {
    const p = new Parser(src, 'input');
    const t = new Rewriter(new Map(), () => false, []).term(p.parseTermExpr(), { declared: new Map(), unused: new Map(), parent: undefined, nested: false });
    if (t.kind !== 'scalar') throw new RegoError('rego_parse_error', 'input term must be a constant');
    return t.value;
  }

  testRules(): ReadonlyArray<{ readonly path: readonly string[]; readonly name: string }> {
    const out: Array<{ path: readonly string[]; name: string }> = [];
    const walk = (n: typeof this.policy.root): void => {
      const name = n.path[n.path.length - 1];
      if (name && name.startsWith('test_') && n.rules.length && n.rules[0]!.kind === 'complete' && n.rules[0]!.tail.length === 0) {
        out.push({ path: n.path, name });
      }
      for (const c of n.children.values()) walk(c);
    };
    walk(this.policy.root);
    return out;
  }

  rulePaths(): ReadonlyArray<readonly string[]> {
    const out: Array<readonly string[]> = [];
    const walk = (n: typeof this.policy.root): void => {
      if (n.rules.length || n.defaults.length) out.push(n.path);
      else for (const c of n.children.values()) walk(c);
    };
    walk(this.policy.root);
    return out;
  }
}

const LOC = { file: 'eval', row: 0, col: 0 };

/** A policy too deep for the JS stack fails as an evaluation error, not a crash. */
function guard(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new RegoError('eval_internal_error', 'evaluation too deep (maximum call stack size exceeded)');
    }
    throw e;
  }
}
const MAX_CACHED_QUERIES = 1000;
