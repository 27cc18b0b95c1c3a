/**
 * @cloud-stack/rego: a Rego engine following OPA's semantics: Rego v1, and v0 (OPA's
 * --v0-compatible) per policy set or per module (`regoVersion`).
 * Stages: lexer -> parser -> compiler (names, safety, rule tree, checks) -> evaluator.
 */
export { compileModules } from './engine';
export type { RegoModule, CompileOptions, EvalOptions, QueryOptions, EvaluateResult, PolicySet, PartialOptions } from './engine';
export * from './partial';
export { modulePackagePath } from './parser';
export type { RegoVersion } from './ast';
export type { TraceEvent, Tracer } from './eval/trace';
export { RegoError } from './errors';
export type { RegoErrorCode, RegoErrorDetail, RegoLocation } from './errors';
