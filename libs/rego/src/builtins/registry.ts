import { RegoError } from '../errors';
import type { Value } from '../value';
import { ArithmeticError } from '../value';

/**
 * What a built-in may see of the query it runs in. One context per query: `time.now_ns`
 * answers the same within a query, and caches live as long as the query.
 */
export interface BuiltinContext {
  /** Wall-clock time of the query start in nanoseconds since the epoch (time.now_ns). */
  readonly timeNs: bigint;
  /** Environment visible to opa.runtime() ({ env: {...} }). */
  readonly env: Readonly<Record<string, string>>;
  /** Per-query cache; keys should be namespaced by the built-in name. */
  readonly cache: Map<string, unknown>;
  /** Sink for print(); absent means print output is dropped (OPA's default). */
  readonly print?: (message: string) => void;
  /** Sink for trace(); absent means trace notes are dropped. */
  readonly trace?: (message: string) => void;
  /** Extra fields of opa.runtime() (e.g. version, config); env is added from `env`. */
  readonly runtime?: Readonly<Record<string, Value>>;
  /**
   * The whole of opa.runtime() when the caller supplies it (OPA answers its runtime term as
   * given, and {} when it has none); takes precedence over `env` and `runtime`.
   */
  readonly runtimeDoc?: Value;
  /**
   * rego.parse_module needs the engine's parser: the engine supplies this hook answering
   * OPA's JSON AST of a module (throwing its rego_parse_error on bad input).
   */
  readonly parseModule?: (filename: string, source: string) => Value;
}

export type BuiltinFn = (args: readonly Value[], ctx: BuiltinContext) => Value | undefined;

/**
 * A built-in function. `fn` returns the output, or `undefined` when the call is undefined.
 * Errors: throw `OperandError` (utils.ts) for bad operands -> eval_type_error, any other
 * Error -> eval_builtin_error; `callBuiltin` prefixes the message with the name as OPA does
 * ("count: operand 1 must be one of {array, object, set, string} but got number").
 */
export interface BuiltinDef {
  /** Full name as written in Rego: 'count', 'strings.replace_n', 'io.jwt.decode'. */
  readonly name: string;
  /** Number of input operands (an extra trailing argument at a call site is the output). */
  readonly arity: number;
  /** Accepts any number of operands >= arity and has no output argument (print). */
  readonly variadic?: boolean;
  /** Different answers for the same inputs (rand.intn, uuid.rfc4122, time.now_ns, http...). */
  readonly nondeterministic?: boolean;
  /** Removed from Rego v1 (OPA's deprecated built-ins): only v0 modules may call it. */
  readonly deprecated?: boolean;
  readonly fn: BuiltinFn;
  /**
   * Relations (OPA's `walk`) yield several outputs; the evaluator must unify its output
   * argument with each. When present, the evaluator should prefer `iter` over `fn`.
   */
  readonly iter?: (args: readonly Value[], ctx: BuiltinContext, hints?: RelationHints) => Iterable<Value>;
}

/** What the evaluator knows about the output argument of a relation call. */
export interface RelationHints {
  /** walk(x, [_, v]): the path is not used, so OPA walks post-order without paths. */
  readonly pathUnused?: boolean;
  /** walk(x, [["a", k], v]): ground elements of the output path (undefined = not ground). */
  readonly pathFilter?: ReadonlyArray<Value | undefined>;
}

export interface BuiltinRegistry {
  register(def: BuiltinDef): void;
  get(name: string): BuiltinDef | undefined;
  has(name: string): boolean;
  names(): string[];
}

class MapRegistry implements BuiltinRegistry {
  private readonly defs = new Map<string, BuiltinDef>();
  register(def: BuiltinDef): void {
    this.defs.set(def.name, def);
  }
  get(name: string): BuiltinDef | undefined {
    return this.defs.get(name);
  }
  has(name: string): boolean {
    return this.defs.has(name);
  }
  names(): string[] {
    return [...this.defs.keys()].sort();
  }
}

export function createEmptyRegistry(): BuiltinRegistry {
  return new MapRegistry();
}

/** An operand of the wrong type or shape: becomes eval_type_error. */
export class OperandError extends Error {
  override name = 'OperandError';
}

/** Any other failure of a built-in: becomes eval_builtin_error. */
export class BuiltinError extends Error {
  override name = 'BuiltinError';
}

/**
 * Calls a built-in and maps its failures to OPA's codes and messages
 * (v1/topdown/eval.go handleBuiltinErr). RegoErrors pass through untouched.
 */
export function callBuiltin(def: BuiltinDef, args: readonly Value[], ctx: BuiltinContext): Value | undefined {
  try {
    return def.fn(args, ctx);
  } catch (e) {
    throw toRegoError(def.name, e);
  }
}

/** Maps an error thrown by built-in `name` to the RegoError OPA would raise. */
export function toRegoError(name: string, e: unknown): RegoError {
  if (e instanceof RegoError) return e;
  if (e instanceof OperandError) return new RegoError('eval_type_error', `${name}: ${e.message}`);
  if (e instanceof BuiltinError || e instanceof ArithmeticError || e instanceof Error) {
    return new RegoError('eval_builtin_error', `${name}: ${e.message}`);
  }
  return new RegoError('eval_builtin_error', `${name}: ${String(e)}`);
}

/** A fresh context for one query. */
export function createBuiltinContext(opts: Partial<BuiltinContext> = {}): BuiltinContext {
  return {
    timeNs: opts.timeNs ?? BigInt(Date.now()) * 1_000_000n,
    env: opts.env ?? (process.env as Record<string, string>),
    cache: opts.cache ?? new Map(),
    print: opts.print,
    trace: opts.trace,
    runtime: opts.runtime,
    parseModule: opts.parseModule,
  };
}
