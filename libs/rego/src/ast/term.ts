import type { Value } from '../value';
import type { Location } from './location';
import type { Body } from './expr';

/** A Rego term. Every node is readonly and tagged by `kind`. */
export type Term =
  | ScalarTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | ObjectTerm
  | SetTerm
  | CallTerm
  | ArrayCompTerm
  | SetCompTerm
  | ObjectCompTerm
  | TemplateTerm;

/** null, boolean, number or string literal: already a runtime value. */
export interface ScalarTerm {
  readonly kind: 'scalar';
  readonly value: Value;
  readonly loc: Location;
}
export interface VarTerm {
  readonly kind: 'var';
  readonly name: string;
  readonly loc: Location;
}
/** head[path0][path1]...: `data.a.b` has head var `data` and path ["a","b"] (string scalars). */
export interface RefTerm {
  readonly kind: 'ref';
  readonly head: Term;
  readonly path: readonly Term[];
  readonly loc: Location;
}
export interface ArrayTerm {
  readonly kind: 'array';
  readonly items: readonly Term[];
  readonly loc: Location;
}
export interface ObjectTerm {
  readonly kind: 'object';
  readonly entries: ReadonlyArray<readonly [Term, Term]>;
  readonly loc: Location;
}
export interface SetTerm {
  readonly kind: 'set';
  readonly items: readonly Term[];
  readonly loc: Location;
}
/** f(args): `op` is the callee as written (a var or a ref); `target` is set by the compiler. */
export interface CallTerm {
  readonly kind: 'call';
  readonly op: Term;
  readonly args: readonly Term[];
  readonly loc: Location;
  readonly target?: CallTarget;
}

/** What a call resolves to: a built-in by name, or user function rules under data. */
export type CallTarget =
  | { readonly kind: 'builtin'; readonly name: string }
  | { readonly kind: 'function'; readonly path: readonly string[] };
export interface ArrayCompTerm {
  readonly kind: 'arraycomp';
  readonly head: Term;
  readonly body: Body;
  readonly loc: Location;
}
export interface SetCompTerm {
  readonly kind: 'setcomp';
  readonly head: Term;
  readonly body: Body;
  readonly loc: Location;
}
export interface ObjectCompTerm {
  readonly kind: 'objectcomp';
  readonly key: Term;
  readonly value: Term;
  readonly body: Body;
  readonly loc: Location;
}
/** $"a {x} b": literal parts interleaved with embedded terms. */
export interface TemplateTerm {
  readonly kind: 'template';
  readonly parts: ReadonlyArray<string | Term>;
  readonly loc: Location;
}

export const Term = {
  scalar: (value: Value, loc: Location): ScalarTerm => ({ kind: 'scalar', value, loc }),
  var: (name: string, loc: Location): VarTerm => ({ kind: 'var', name, loc }),
  ref: (head: Term, path: readonly Term[], loc: Location): RefTerm => ({ kind: 'ref', head, path, loc }),
  isVar: (t: Term, name?: string): t is VarTerm => t.kind === 'var' && (name === undefined || t.name === name),
  isWildcard: (t: Term): boolean => t.kind === 'var' && t.name.startsWith('$'),
};
