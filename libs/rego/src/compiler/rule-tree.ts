import type { Body, Location, Term } from '../ast';
import type { Value } from '../value';
import type { RuleIndex } from './rule-index';

/** A compiled rule: body ordered for safety, names resolved. */
export interface CompiledRule {
  /** complete: one value; multi: `contains` (set element); function: called with args. */
  readonly kind: 'complete' | 'multi' | 'function';
  /** Path of the node holding the rule (ground prefix of the head ref), below data. */
  readonly path: readonly string[];
  /** Head ref terms after the ground prefix (`a.b[x].c` -> [x, "c"]). */
  readonly tail: readonly Term[];
  readonly args: readonly Term[] | undefined;
  /** Set element for `contains` rules, value otherwise. */
  readonly value: Term;
  readonly body: Body;
  readonly elses: ReadonlyArray<{ readonly value: Term; readonly body: Body }>;
  readonly isDefault: boolean;
  readonly loc: Location;
  /** Index of the rule's module, for ordering like OPA (module order, then source order). */
  readonly order: number;
  /** Package of the module the rule is written in. */
  readonly pkg: readonly string[];
  /** METADATA annotations of the rule (already normalized), if any. */
  readonly annotations: Value | undefined;
}

/** One node of the rule tree under data. */
export interface RuleNode {
  readonly path: readonly string[];
  readonly children: Map<string, RuleNode>;
  readonly rules: CompiledRule[];
  readonly defaults: CompiledRule[];
  /** Any rule at this node or below (so base data here is merged with virtual docs). */
  hasRules: boolean;
  /** A package lives here: its document exists (possibly empty) even without rules. */
  isPackage: boolean;
  /** Index over the rules (see rule-index.ts); undefined when not worth one. */
  index: RuleIndex | undefined;
  /** Value of a node whose rules are all constants (`p := {...}`): computed once. */
  constValue: Value | undefined;
  /**
   * Value cache, tagged with the id of the frame that computed it. Evaluation is synchronous,
   * so a tag is enough: no per-evaluation cache has to be allocated.
   */
  cacheFrame: number;
  cacheValue: Value | undefined;
  /** METADATA of the package clause(s) at this node. */
  pkgAnnotations: Value | undefined;
  /**
   * The value depends only on base data (no input, no non-deterministic built-ins): it is
   * cached across evaluations for as long as the same base data object is used.
   */
  isStatic: boolean;
  staticData: Value | undefined;
  staticValue: Value | undefined;
  /**
   * The node's value is being computed (evaluation is synchronous, so a flag on the node is the
   * whole in-progress set): meeting it again is recursion the compiler could not see.
   */
  evaluating: boolean;
}

export function newNode(path: readonly string[]): RuleNode {
  return { path, children: new Map(), rules: [], defaults: [], hasRules: false, isPackage: false, index: undefined, constValue: undefined, cacheFrame: -1, cacheValue: undefined, pkgAnnotations: undefined, isStatic: false, staticData: undefined, staticValue: undefined, evaluating: false };
}

export function nodeAt(root: RuleNode, path: readonly string[], create: boolean): RuleNode | undefined {
  let n = root;
  for (let i = 0; i < path.length; i++) {
    let c = n.children.get(path[i]!);
    if (!c) {
      if (!create) return undefined;
      c = newNode(path.slice(0, i + 1));
      n.children.set(path[i]!, c);
    }
    n = c;
  }
  return n;
}

export function isFunctionNode(n: RuleNode): boolean {
  const r = n.rules[0] ?? n.defaults[0];
  return r !== undefined && r.kind === 'function';
}

export function ruleName(path: readonly string[]): string {
  return ['data', ...path].join('.');
}
