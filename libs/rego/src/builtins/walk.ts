/**
 * OPA v1/topdown/walk.go: `walk(x, [path, value])` is a relation: it yields every
 * [path, value] pair of x, pre-order, object keys and set elements in sorted order. The
 * evaluator iterates `iter` and unifies each pair with the output argument.
 * Hints from the call site (optional, they only save work):
 *  - pathUnused: `walk(x, [_, v])`: paths are not built (emitted as []);
 *  - pathFilter: the output path is an array literal: its ground elements restrict the walk
 *    (undefined marks a non-ground element), and only paths of that length are emitted.
 */
import type { BuiltinRegistry, RelationHints } from './registry';
import { RegoObject, RegoSet, type Value } from '../value';

function children(x: Value): Array<[Value, Value]> {
  if (Array.isArray(x)) return (x as readonly Value[]).map((v, i) => [i, v]);
  if (x instanceof RegoObject) return x.sortedEntries();
  if (x instanceof RegoSet) return x.sorted().map((v) => [v, v]);
  return [];
}

function child(x: Value, key: Value): Value | undefined {
  if (Array.isArray(x)) {
    return typeof key === 'number' && Number.isInteger(key) && key >= 0 ? (x as readonly Value[])[key] : undefined;
  }
  if (x instanceof RegoObject) return x.get(key);
  if (x instanceof RegoSet) return x.get(key);
  return undefined;
}

export function* walkValue(x: Value, hints: RelationHints = {}): Generator<Value> {
  if (hints.pathUnused) {
    yield* walkNoPath(x);
    return;
  }
  yield* walkWithPath(x, [], hints.pathFilter ?? []);
}

function* walkWithPath(x: Value, path: Value[], filter: ReadonlyArray<Value | undefined>): Generator<Value> {
  if (filter.length === 0) yield [path, x];
  else {
    const [key, ...rest] = filter;
    if (key !== undefined) {
      const c = child(x, key);
      if (c !== undefined) yield* walkWithPath(c, [...path, key], rest);
      return;
    }
    for (const [k, v] of children(x)) yield* walkWithPath(v, [...path, k], rest);
    return;
  }
  for (const [k, v] of children(x)) yield* walkWithPath(v, [...path, k], filter);
}

function* walkNoPath(x: Value): Generator<Value> {
  yield [[], x];
  for (const [, v] of children(x)) yield* walkNoPath(v);
}

export function register(r: BuiltinRegistry): void {
  r.register({
    name: 'walk',
    arity: 1,
    // A relation has no single answer; `fn` gives the root pair for callers that insist.
    fn: ([x]) => [[], x!],
    iter: ([x], _ctx, hints) => walkValue(x!, hints),
  });
}
