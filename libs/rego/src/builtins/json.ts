/** OPA v1/topdown/json.go: json.filter, json.remove, json.patch. */
import type { BuiltinRegistry } from './registry';
import { arrayArg, def, objectArg, operandErr, typeErr } from './utils';
import { filterValue } from './objects';
import { RegoObject, RegoSet, equal, typeName, type Value } from '../value';

/** A path is a JSON-pointer-ish string ("a/b", "/a/~1b") or an array of segments. */
function parsePath(p: Value): Value[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    return p
      .replace(/^\/+/, '')
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (Array.isArray(p)) return [...(p as readonly Value[])];
  throw operandErr(2, `must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`);
}

function jsonPaths(v: Value): Value[][] {
  if (Array.isArray(v)) return (v as readonly Value[]).map(parsePath);
  if (v instanceof RegoSet) return v.sorted().map(parsePath);
  throw typeErr(2, v, 'set', 'array');
}

/** Paths as a tree of objects with null leaves (pathsToObject). */
function pathsToObject(paths: Value[][]): RegoObject {
  const root = new RegoObject();
  for (const path of paths) {
    if (path.length === 0) continue;
    let node = root;
    let done = false;
    for (let i = 0; i < path.length - 1 && !done; i++) {
      const child = node.get(path[i]!);
      if (child === undefined) {
        const o = new RegoObject();
        node.set(path[i]!, o);
        node = o;
      } else if (child === null) done = true;
      else node = child as RegoObject;
    }
    if (!done) node.set(path[path.length - 1]!, null);
  }
  return root;
}

function jsonRemove(a: Value, b: Value | undefined): Value | undefined {
  if (b === undefined) return a;
  if (b === null) return undefined;
  if (!(b instanceof RegoObject)) return a;
  if (a instanceof RegoObject) {
    const out = new RegoObject();
    for (const [k, v] of a.entries()) {
      const d = jsonRemove(v, b.get(k));
      if (d !== undefined) out.set(k, d);
    }
    return out;
  }
  if (a instanceof RegoSet) {
    const out = new RegoSet();
    for (const v of a.values()) {
      const d = jsonRemove(v, b.get(v));
      if (d !== undefined) out.add(d);
    }
    return out;
  }
  if (Array.isArray(a)) {
    const out: Value[] = [];
    (a as readonly Value[]).forEach((v, i) => {
      const d = jsonRemove(v, b.get(String(i)));
      if (d !== undefined) out.push(d);
    });
    return out;
  }
  return a;
}

// ---- json.patch (RFC 6902 over Rego values; any failure makes the call undefined) ----

class PatchError extends Error {}

function arrayIndex(seg: Value, len: number, allowEnd: boolean): number {
  if (seg === '-' && allowEnd) return len;
  const n = typeof seg === 'number' ? seg : typeof seg === 'string' && /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > (allowEnd ? len : len - 1)) throw new PatchError('bad index');
  return n;
}

function get(root: Value, path: readonly Value[]): Value {
  let cur = root;
  for (const seg of path) {
    if (cur instanceof RegoObject) {
      const n = cur.get(seg);
      if (n === undefined) throw new PatchError('missing');
      cur = n;
    } else if (Array.isArray(cur)) cur = (cur as readonly Value[])[arrayIndex(seg, cur.length, false)]!;
    else if (cur instanceof RegoSet) {
      if (!cur.has(seg)) throw new PatchError('missing');
      cur = seg;
    } else throw new PatchError('missing');
  }
  return cur;
}

/** Returns a copy of root with `fn` applied to the parent container of the path's last segment. */
function update(root: Value, path: readonly Value[], leaf: (parent: Value, seg: Value) => Value): Value {
  if (path.length === 0) throw new PatchError('empty path');
  const [seg, ...rest] = path;
  if (rest.length === 0) return leaf(root, seg!);
  if (root instanceof RegoObject) {
    const child = root.get(seg!);
    if (child === undefined) throw new PatchError('missing');
    return root.clone().set(seg!, update(child, rest, leaf));
  }
  if (Array.isArray(root)) {
    const i = arrayIndex(seg!, root.length, false);
    const out = [...(root as readonly Value[])];
    out[i] = update(out[i]!, rest, leaf);
    return out;
  }
  if (root instanceof RegoSet) {
    if (!root.has(seg!)) throw new PatchError('missing');
    const out = new RegoSet(root.values());
    out.delete(seg!);
    out.add(update(seg!, rest, leaf));
    return out;
  }
  throw new PatchError('missing');
}

function add(root: Value, path: readonly Value[], value: Value): Value {
  if (path.length === 0) return value;
  return update(root, path, (parent, seg) => {
    if (parent instanceof RegoObject) return parent.clone().set(seg, value);
    if (Array.isArray(parent)) {
      const out = [...(parent as readonly Value[])];
      out.splice(arrayIndex(seg, out.length, true), 0, value);
      return out;
    }
    if (parent instanceof RegoSet) {
      // A set member's path segment is the member itself.
      if (!equal(seg, value)) throw new PatchError('set key and value differ');
      const out = new RegoSet(parent.values());
      out.add(value);
      return out;
    }
    throw new PatchError('bad parent');
  });
}

function remove(root: Value, path: readonly Value[]): Value {
  return update(root, path, (parent, seg) => {
    if (parent instanceof RegoObject) {
      if (!parent.has(seg)) throw new PatchError('missing');
      const out = parent.clone();
      out.delete(seg);
      return out;
    }
    if (Array.isArray(parent)) {
      const out = [...(parent as readonly Value[])];
      out.splice(arrayIndex(seg, out.length, false), 1);
      return out;
    }
    if (parent instanceof RegoSet) {
      if (!parent.has(seg)) throw new PatchError('missing');
      const out = new RegoSet(parent.values());
      out.delete(seg);
      return out;
    }
    throw new PatchError('bad parent');
  });
}

function applyPatch(target: Value, ops: readonly Value[]): Value {
  let doc = target;
  for (const op of ops) {
    if (!(op instanceof RegoObject)) throw new PatchError('not an object');
    const kind = op.get('op');
    const pathV = op.get('path');
    if (typeof kind !== 'string' || pathV === undefined) throw new PatchError('bad op');
    const path = parsePath(pathV);
    const attr = (name: string): Value => {
      const v = op.get(name);
      if (v === undefined) throw new PatchError(`missing '${name}' attribute`);
      return v;
    };
    switch (kind) {
      case 'add':
        doc = add(doc, path, attr('value'));
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace': {
        const v = attr('value');
        get(doc, path);
        doc = path.length === 0 ? v : add(remove(doc, path), path, v);
        break;
      }
      case 'move': {
        const from = parsePath(attr('from'));
        const chunk = get(doc, from);
        doc = add(remove(doc, from), path, chunk);
        break;
      }
      case 'copy': {
        const from = parsePath(attr('from'));
        doc = add(doc, path, get(doc, from));
        break;
      }
      case 'test':
        if (!equal(get(doc, path), attr('value'))) throw new PatchError('test failed');
        break;
      default:
        throw new PatchError(`unrecognized op '${kind}'`);
    }
  }
  return doc;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'json.filter', 2, (args) => {
    const o = objectArg(args, 0);
    return filterValue(o, pathsToObject(jsonPaths(args[1]!)));
  });
  def(r, 'json.remove', 2, (args) => {
    const o = objectArg(args, 0);
    return jsonRemove(o, pathsToObject(jsonPaths(args[1]!)));
  });
  def(r, 'json.patch', 2, (args) => {
    const ops = arrayArg(args, 1);
    try {
      return applyPatch(args[0]!, ops);
    } catch {
      // OPA answers undefined for any patch that cannot be applied.
      return undefined;
    }
  });
}
