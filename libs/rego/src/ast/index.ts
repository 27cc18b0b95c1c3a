export type { Location } from './location';
export { Term } from './term';
export type {
  ScalarTerm,
  VarTerm,
  RefTerm,
  ArrayTerm,
  ObjectTerm,
  SetTerm,
  CallTerm,
  CallTarget,
  ArrayCompTerm,
  SetCompTerm,
  ObjectCompTerm,
  TemplateTerm,
} from './term';
export type { Expr, TermExpr, SomeDeclExpr, SomeInExpr, EveryExpr, Body, WithModifier } from './expr';
export type { Module, Rule, Import, ElseClause, RegoVersion } from './module';
export { forEachChild, forEachExprPart } from './walk';
