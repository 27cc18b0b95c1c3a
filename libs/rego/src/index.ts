/**
 * @cloud-stack/rego: a Rego v1 engine following OPA's semantics.
 * Stages: lexer -> parser -> compiler (names, safety, rule tree, checks) -> evaluator.
 */
export { compileModules } from './engine';
export type { RegoModule, CompileOptions, EvalOptions, QueryOptions, EvaluateResult, PolicySet } from './engine';
export { RegoError } from './errors';
export type { RegoErrorCode, RegoErrorDetail, RegoLocation } from './errors';
