/** OPA v1/topdown/sets.go: & (and), | (or), intersection, union. */
import type { BuiltinRegistry } from './registry';
import { def, elemErr, setArg } from './utils';
import { RegoSet } from '../value';

function setOfSets(s: RegoSet): RegoSet[] {
  return s.sorted().map((x) => {
    if (!(x instanceof RegoSet)) throw elemErr(1, s, x, 'set');
    return x;
  });
}

export function register(r: BuiltinRegistry): void {
  def(r, 'and', 2, (args) => setArg(args, 0).intersect(setArg(args, 1)));
  def(r, 'or', 2, (args) => setArg(args, 0).union(setArg(args, 1)));
  def(r, 'intersection', 1, (args) => {
    const sets = setOfSets(setArg(args, 0));
    if (sets.length === 0) return new RegoSet();
    return sets.reduce((acc, s) => acc.intersect(s));
  });
  def(r, 'union', 1, (args) => {
    const out = new RegoSet();
    for (const s of setOfSets(setArg(args, 0))) for (const v of s.values()) out.add(v);
    return out;
  });
}
