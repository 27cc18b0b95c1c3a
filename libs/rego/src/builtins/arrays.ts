/** OPA v1/topdown/array.go: array.concat, array.slice, array.reverse, array.flatten. */
import type { BuiltinRegistry } from './registry';
import { arrayArg, def, intArg } from './utils';
import type { Value } from '../value';

/** One level, as OPA's array.flatten: nested arrays deeper down stay arrays. */
function flatten(a: readonly Value[], out: Value[]): Value[] {
  for (const v of a) {
    if (Array.isArray(v)) out.push(...(v as readonly Value[]));
    else out.push(v);
  }
  return out;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'array.concat', 2, (args) => [...arrayArg(args, 0), ...arrayArg(args, 1)]);
  def(r, 'array.slice', 3, (args) => {
    const a = arrayArg(args, 0);
    let start = intArg(args, 1);
    let stop = intArg(args, 2);
    // Clamp like OPA: negative start is 0, stop beyond the end is the end.
    if (start < 0) start = 0;
    if (stop > a.length) stop = a.length;
    if (start >= stop) return [];
    return a.slice(start, stop);
  });
  def(r, 'array.reverse', 1, (args) => [...arrayArg(args, 0)].reverse());
  def(r, 'array.flatten', 1, (args) => flatten(arrayArg(args, 0), []));
}
