import type { CallTarget } from '../ast';
import type { Value } from '../value';

/** A replacement installed by `with` for a built-in or a user function. */
export type FunctionOverride = { readonly kind: 'value'; readonly value: Value } | { readonly kind: 'target'; readonly target: CallTarget };

export interface DataOverride {
  readonly path: readonly string[];
  readonly value: Value;
}

/**
 * The documents and mocks an evaluation sees. `with` derives a new frame (and a fresh cache,
 * since cached rule values depend on the frame), the continuation runs in the old one.
 */
export interface Frame {
  readonly input: Value | undefined;
  readonly data: Value;
  readonly dataOverrides: readonly DataOverride[];
  readonly fnOverrides: ReadonlyMap<string, FunctionOverride>;
  /** Unique per frame: tags rule values cached on rule nodes (see RuleNode.cacheFrame). */
  readonly id: number;
}

let nextId = 0;

export function newFrameId(): number {
  nextId = (nextId + 1) % Number.MAX_SAFE_INTEGER;
  return nextId;
}

const NO_OVERRIDES: ReadonlyMap<string, FunctionOverride> = new Map();

export function rootFrame(input: Value | undefined, data: Value): Frame {
  return { input, data, dataOverrides: [], fnOverrides: NO_OVERRIDES, id: newFrameId() };
}
