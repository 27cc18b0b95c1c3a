import type { Location } from './location';
import type { Term } from './term';

/** `with target as value`: target is a ref into input, data or a function name. */
export interface WithModifier {
  readonly target: Term;
  readonly value: Term;
  readonly loc: Location;
}

/**
 * One literal of a body. `term` is a plain expression (a call, a comparison, a ref...);
 * unification and assignment are calls to `eq` / `assign` as OPA represents them.
 */
export type Expr = TermExpr | SomeDeclExpr | SomeInExpr | EveryExpr;

export interface TermExpr {
  readonly kind: 'term';
  readonly term: Term;
  readonly negated: boolean;
  readonly with: readonly WithModifier[];
  readonly loc: Location;
}
/** `some x, y`: declares local vars. */
export interface SomeDeclExpr {
  readonly kind: 'some';
  readonly vars: readonly string[];
  readonly loc: Location;
  readonly with: readonly WithModifier[];
  readonly negated: false;
}
/** `some k, v in xs` / `some v in xs`. */
export interface SomeInExpr {
  readonly kind: 'somein';
  readonly key: Term | undefined;
  readonly value: Term;
  readonly domain: Term;
  readonly loc: Location;
  readonly with: readonly WithModifier[];
  readonly negated: boolean;
}
/** `every k, v in xs { body }`. */
export interface EveryExpr {
  readonly kind: 'every';
  readonly key: Term | undefined;
  readonly value: Term;
  readonly domain: Term;
  readonly body: Body;
  readonly loc: Location;
  readonly with: readonly WithModifier[];
  readonly negated: boolean;
}

export type Body = readonly Expr[];
