import { BigNum } from './number';
import type { RegoObject } from './object';
import type { RegoSet } from './set';

/**
 * A Rego value. See the representation notes in ./index.ts.
 * Arrays are plain JS arrays treated as immutable once built.
 */
export type Value = null | boolean | string | number | BigNum | ArrayValue | RegoObject | RegoSet;
export type ArrayValue = readonly Value[];

/** OPA's type names (ast.ValueName / type_name builtin). */
export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

/** Primitive used as a JS Map key; equal values map to the same key. */
export type MapKey = string | number | boolean | null;
