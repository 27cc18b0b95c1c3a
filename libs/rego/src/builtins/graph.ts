/** OPA v1/topdown/reachable.go: graph.reachable, graph.reachable_paths. */
import type { BuiltinRegistry } from './registry';
import { def, objectArg, typeErr } from './utils';
import { RegoObject, RegoSet, type Value } from '../value';

/** Vertices of an array or set; anything else has none (foreachVertex). */
function vertices(v: Value): readonly Value[] {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RegoSet) return v.sorted();
  return [];
}

function initial(args: readonly Value[]): readonly Value[] {
  const v = args[1]!;
  if (!Array.isArray(v) && !(v instanceof RegoSet)) throw typeErr(2, v, '{array, set}');
  return vertices(v);
}

function pathBuilder(graph: RegoObject, root: Value, path: Value[], out: RegoSet, reached: RegoSet): void {
  const edges = graph.get(root);
  if (edges === undefined) {
    out.add(path);
    return;
  }
  const p = [...path, root];
  const next = vertices(edges);
  if (next.length === 0) {
    out.add(p);
    return;
  }
  // `reached` is shared by the whole walk below one start edge (siblings see each other's
  // nodes), which is what OPA's results reflect.
  reached.add(root);
  for (const n of next) {
    if (reached.has(n)) out.add(p);
    else pathBuilder(graph, n, p, out, reached);
  }
}

export function register(r: BuiltinRegistry): void {
  def(r, 'graph.reachable', 2, (args) => {
    const graph = objectArg(args, 0);
    const queue = [...initial(args)];
    const reached = new RegoSet();
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      const edges = graph.get(node);
      if (edges === undefined) continue;
      for (const n of vertices(edges)) if (!reached.has(n)) queue.push(n);
      reached.add(node);
    }
    return reached;
  });
  def(r, 'graph.reachable_paths', 2, (args) => {
    const graph = objectArg(args, 0);
    const out = new RegoSet();
    for (const node of initial(args)) {
      const edges = graph.get(node);
      if (edges === undefined) continue;
      const next = vertices(edges);
      if (next.length === 0) out.add([node]);
      for (const n of next) pathBuilder(graph, n, [node], out, new RegoSet([node]));
    }
    return out;
  });
}
