import type { RefTerm } from '../ast';
import type { BuiltinContext, BuiltinRegistry } from '../builtins';
import type { Value } from '../value';
import type { RuleNode } from '../compiler/rule-tree';
import { Bindings } from './bindings';
import type { Tracer } from './trace';

/** Continuations return true to stop the enumeration (enough answers were found). */
export type K = () => boolean | void;
export type VK = (v: Value) => boolean | void;

/** quick() could not answer without enumerating: take the general (CPS) path. */
export const SLOW = Symbol('slow');
export const EMPTY_ENV = new Bindings();
export const NO_KEYS: readonly Value[] = [];
/** Data refs -> where their constant prefix leads in the rule tree, for one base data value. */
export const DATA_REFS = new WeakMap<RefTerm, { data: Value; node: RuleNode; i: number; base: Value | undefined; leaf: boolean }>();
/** Compiled call targets -> their rule node; path arrays belong to one compiled policy. */
export const FUNCTION_NODES = new WeakMap<readonly string[], RuleNode | null>();

export interface EvaluatorOptions {
  readonly root: RuleNode;
  readonly registry: BuiltinRegistry;
  readonly strict: boolean;
  readonly ctx: BuiltinContext;
  /** Abort after this many steps (guards against runaway policies). */
  readonly maxSteps?: number;
  /** Abort after this many milliseconds (checked every 1024 steps). */
  readonly timeoutMs?: number;
  /** Receives trace events (OPA's explain); rule values are then not shared between evaluations. */
  readonly tracer?: Tracer;
}
