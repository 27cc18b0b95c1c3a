import { OpaHttpError } from '../opa/errors';

/**
 * Writes to the base data document with the semantics of OPA's in-memory store (storage/inmem):
 * add/remove/replace at a path, array indexes and `-`, intermediate objects made by PUT, and
 * its storage error messages. A draft copies only the containers on the written paths, so the
 * snapshot the current decisions read is never touched and a failed write leaves nothing behind.
 */

export type WriteOp = 'add' | 'remove' | 'replace';
export type DataPath = readonly string[];

type Container = Record<string, unknown> | unknown[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** storage.Path's String(): `/a/b%2Fc`, `/` for the root. */
export function pathString(path: DataPath): string {
  return '/' + path.map(encodeURIComponent).join('/');
}

// OPA's storage errors answer 404 (not found, write conflict) or 400 (invalid patch), with the
// storage error's text as the message (server/writer ErrorAuto).
function notFound(path?: DataPath, hint = 'document does not exist'): OpaHttpError {
  return OpaHttpError.notFound(`storage_not_found_error: ${path ? `${pathString(path)}: ` : ''}${hint}`);
}

function invalidPatch(message: string): OpaHttpError {
  return OpaHttpError.badRequest(`storage_invalid_patch_error: ${message}`);
}

function writeConflict(path: DataPath): OpaHttpError {
  return new OpaHttpError(404, 'resource_conflict', `storage_write_conflict_error: ${pathString(path)}`);
}

/** ptr.ValidateArrayIndex: an integer in range, else not found with OPA's hint. */
function arrayIndex(arr: readonly unknown[], key: string, path: DataPath): number {
  if (!/^[+-]?\d+$/.test(key)) throw notFound(path, 'array index must be integer');
  const i = Number(key);
  if (i < 0 || i >= arr.length) throw notFound(path, 'array index out of range');
  return i;
}

export class DataDraft {
  private readonly owned = new WeakSet<object>();
  private root: Record<string, unknown>;

  constructor(base: Record<string, unknown>) {
    this.root = base;
  }

  /** The data after the writes; the base object when nothing was written. */
  result(): Record<string, unknown> {
    return this.root;
  }

  /** storage Read: the document at `path`, or a 404 naming the path. */
  read(path: DataPath): unknown {
    let node: unknown = this.root;
    for (const key of path) {
      if (isObject(node)) {
        if (!Object.hasOwn(node, key)) throw notFound(path);
        node = node[key];
      } else if (Array.isArray(node)) node = node[arrayIndex(node, key, path)];
      else throw notFound(path);
    }
    return node;
  }

  exists(path: DataPath): boolean {
    try {
      this.read(path);
      return true;
    } catch (err) {
      if (err instanceof OpaHttpError && err.status === 404) return false;
      throw err;
    }
  }

  /** storage.MakeDir: makes each missing object on `path`; a non-object on the way is a write conflict. */
  makeDir(path: DataPath): void {
    if (path.length === 0) return;
    if (!this.exists(path)) {
      this.makeDir(path.slice(0, -1));
      this.write('add', path, {});
      return;
    }
    if (!isObject(this.read(path))) throw writeConflict(path);
  }

  /** storage Write (inmem newUpdate): one add/remove/replace at `path`. */
  write(op: WriteOp, path: DataPath, value?: unknown): void {
    if (path.length === 0) {
      if (op === 'remove') throw invalidPatch('root cannot be removed');
      if (!isObject(value)) throw invalidPatch('root must be object');
      this.root = value;
      this.owned.add(value);
      return;
    }
    this.root = this.own(this.root);
    let parent: Container = this.root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      let child: unknown;
      let set: (c: Container) => void;
      if (Array.isArray(parent)) {
        const arr: unknown[] = parent;
        const at = arrayIndex(arr, key, path);
        child = arr[at];
        set = (c) => (arr[at] = c);
      } else {
        const obj = parent;
        if (!Object.hasOwn(obj, key)) throw notFound();
        child = obj[key];
        set = (c) => (obj[key] = c);
      }
      if (!isObject(child) && !Array.isArray(child)) throw notFound();
      const mine = this.own(child);
      set(mine);
      parent = mine;
    }
    const last = path[path.length - 1]!;
    if (Array.isArray(parent)) {
      if (last === '-' || last === String(parent.length)) {
        if (op !== 'add') throw invalidPatch(`${pathString(path)}: invalid patch path`);
        parent.push(value);
        return;
      }
      const at = arrayIndex(parent, last, path);
      if (op === 'add') parent.splice(at, 0, value);
      else if (op === 'remove') parent.splice(at, 1);
      else parent[at] = value;
      return;
    }
    if (op !== 'add' && !Object.hasOwn(parent, last)) throw notFound();
    if (op === 'remove') delete parent[last];
    else parent[last] = value;
  }

  /** A copy of `c` this draft may change (the base's containers are shared with live snapshots). */
  private own<C extends Container>(c: C): C {
    if (this.owned.has(c)) return c;
    const copy = (Array.isArray(c) ? [...c] : { ...c }) as C;
    this.owned.add(copy);
    return copy;
  }
}

/**
 * ast.CheckPathConflicts with storage.NonEmpty: base data may not exist where a rule is defined,
 * nor may a non-object sit above one (the rule's document could not be placed). 400 with OPA's
 * message for the first conflict.
 */
export function checkRuleConflicts(draft: DataDraft, rulePaths: readonly DataPath[]): void {
  const conflicts: string[] = [];
  for (const rule of rulePaths) {
    let conflict = draft.exists(rule);
    for (let i = rule.length - 1; i > 0 && !conflict; i--) {
      const prefix = rule.slice(0, i);
      if (draft.exists(prefix)) {
        conflict = !isObject(draft.read(prefix));
        break;
      }
    }
    if (conflict) conflicts.push(`rego_compile_error: conflicting rule for data path ${rule.join('/')} found`);
  }
  if (conflicts.length === 1) throw OpaHttpError.badRequest(`1 error occurred: ${conflicts[0]}`);
  if (conflicts.length > 1) throw OpaHttpError.badRequest(`${conflicts.length} errors occurred:\n${conflicts.join('\n')}`);
}
