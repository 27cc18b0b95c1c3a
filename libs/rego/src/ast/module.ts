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

export interface Module {
  readonly file: string;
  /** Package path below data, e.g. ["gateway","authz"]. */
  readonly pkg: readonly string[];
  readonly imports: readonly Import[];
  readonly rules: readonly Rule[];
  /** METADATA annotations written above the package clause. */
  readonly annotations?: Readonly<Record<string, unknown>>;
}
