import type { Location } from './location';
import type { Body } from './expr';
import type { Term } from './term';

export interface Import {
  /** The imported ref, e.g. data.x.y or input.a (future.keywords/rego.v1 are dropped). */
  readonly path: Term;
  readonly alias: string;
  readonly loc: Location;
}

/** `else [= value] [if] { body }`, chained. */
export interface ElseClause {
  readonly value: Term | undefined;
  readonly body: Body;
  readonly loc: Location;
}

/**
 * A rule as written. `ref` is the head reference (`p`, `a.b[x]`); `args` is set for functions;
 * `key` is the element of a `contains` rule; `value` is the assigned value (true when absent).
 */
export interface Rule {
  readonly kind: 'rule';
  readonly ref: readonly Term[];
  readonly args: readonly Term[] | undefined;
  readonly contains: Term | undefined;
  readonly value: Term | undefined;
  readonly assign: boolean;
  readonly isDefault: boolean;
  readonly body: Body;
  readonly elses: readonly ElseClause[];
  readonly loc: Location;
  /** METADATA annotations written above the rule (YAML as JSON, normalized). */
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/**
 * Rego syntax of a module (OPA's RegoVersion): `v1` is OPA 1.x's; `v0` is the syntax before 1.0
 * (`--v0-compatible`, a bundle's `rego_version: 0`), where `if`/`contains`/`in`/`every` are
 * keywords only once imported and v1's strictness checks do not apply.
 */
export type RegoVersion = 'v0' | 'v1';

export interface Module {
  readonly file: string;
  /**
   * The rules the compiler applies: `v1`, or `v0` for a v0 module. A v0 module that imports
   * `rego.v1` is held to v1's rules (OPA's RegoV0CompatV1), so it reads `v1` here.
   */
  readonly regoVersion: RegoVersion;
  /** Package path below data, e.g. ["gateway","authz"]. */
  readonly pkg: readonly string[];
  readonly imports: readonly Import[];
  readonly rules: readonly Rule[];
  /** METADATA annotations written above the package clause. */
  readonly annotations?: Readonly<Record<string, unknown>>;
}
