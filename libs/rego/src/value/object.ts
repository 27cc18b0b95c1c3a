import { compare } from './compare';
import { keyOf } from './key';
import type { MapKey, Value } from './types';

interface Entry {
  readonly key: Value;
  value: Value;
}

/**
 * A Rego object: keys may be any value. Lookups by string key are a plain Map hit.
 * `entries()`/`keys()` iterate in insertion order; `sortedEntries()`/`sortedKeys()` in OPA's
 * key order (what OPA serialises and what order-sensitive built-ins see).
 * Mutate (`set`/`delete`) only while building; treat as immutable once shared.
 */
export class RegoObject {
  private entryMap = new Map<MapKey, Entry>();
  private sortedCache: Entry[] | undefined;
  private sortedKeysCache: Value[] | undefined;
  /**
   * A plain JSON record whose entries are converted on demand (see `fromRecordLazily`): `get`
   * converts only the key it is asked for; anything that needs every entry converts the rest.
   */
  private pending: Readonly<Record<string, unknown>> | undefined;
  private convert: ((x: unknown) => Value) | undefined;

  constructor(entries?: Iterable<readonly [Value, Value]>) {
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  /**
   * An object over a JSON record (own enumerable keys, `undefined` values skipped) converting
   * each value with `convert` when first read. Policies read a few fields of a large input;
   * converting the rest up front was most of the cost of a small decision. The record must not
   * change while the object is in use.
   */
  static fromRecordLazily(rec: Readonly<Record<string, unknown>>, convert: (x: unknown) => Value): RegoObject {
    const o = new RegoObject();
    o.pending = rec;
    o.convert = convert;
    return o;
  }

  /** Every entry, converting what is still pending (in the record's key order). */
  private get map(): Map<MapKey, Entry> {
    const rec = this.pending;
    if (rec === undefined) return this.entryMap;
    this.pending = undefined;
    const done = this.entryMap;
    const all = new Map<MapKey, Entry>();
    for (const key of Object.keys(rec)) {
      const raw = rec[key];
      if (raw === undefined) continue;
      const mk = keyOf(key);
      all.set(mk, done.get(mk) ?? { key, value: this.convert!(raw) });
    }
    this.entryMap = all;
    return all;
  }

  /** The entry at k, converting just that one when the record is still pending. */
  private entry(k: Value): Entry | undefined {
    const rec = this.pending;
    if (rec === undefined) return this.entryMap.get(keyOf(k));
    const mk = keyOf(k);
    const e = this.entryMap.get(mk);
    if (e !== undefined || typeof k !== 'string' || !Object.hasOwn(rec, k)) return e;
    const raw = rec[k];
    if (raw === undefined) return undefined;
    const fresh = { key: k, value: this.convert!(raw) };
    this.entryMap.set(mk, fresh);
    return fresh;
  }

  /** Object with string keys from a JS record (values already Rego values). */
  static fromRecord(rec: Readonly<Record<string, Value>>): RegoObject {
    const o = new RegoObject();
    for (const k of Object.keys(rec)) o.set(k, rec[k]!);
    return o;
  }

  get size(): number {
    return this.map.size;
  }

  get(k: Value): Value | undefined {
    return this.entry(k)?.value;
  }

  has(k: Value): boolean {
    return this.entry(k) !== undefined;
  }

  /** Inserts or replaces the value at k. */
  set(k: Value, v: Value): this {
    const mk = keyOf(k);
    const e = this.map.get(mk);
    if (e) e.value = v;
    else {
      this.map.set(mk, { key: k, value: v });
      this.sortedCache = undefined;
      this.sortedKeysCache = undefined;
    }
    return this;
  }

  /**
   * Adds an entry whose key is known to be absent (building from distinct keys, e.g. a JS
   * object's own keys): one hash operation instead of two.
   */
  append(k: Value, v: Value): this {
    this.map.set(keyOf(k), { key: k, value: v });
    this.sortedCache = undefined;
    this.sortedKeysCache = undefined;
    return this;
  }

  delete(k: Value): boolean {
    const ok = this.map.delete(keyOf(k));
    if (ok) {
      this.sortedCache = undefined;
      this.sortedKeysCache = undefined;
    }
    return ok;
  }

  /**
   * Visits entries in insertion order until `fn` returns false; answers whether it visited
   * them all. Cheaper than `entries()` on hot paths (no generator).
   */
  every(fn: (key: Value, value: Value) => boolean): boolean {
    for (const e of this.map.values()) if (!fn(e.key, e.value)) return false;
    return true;
  }

  /** The stored entry for a key, when present (one hash lookup for key and value). */
  lookup(k: Value): { readonly key: Value; readonly value: Value } | undefined {
    return this.entry(k);
  }

  *entries(): IterableIterator<[Value, Value]> {
    for (const e of this.map.values()) yield [e.key, e.value];
  }

  [Symbol.iterator](): IterableIterator<[Value, Value]> {
    return this.entries();
  }

  *keys(): IterableIterator<Value> {
    for (const e of this.map.values()) yield e.key;
  }

  *values(): IterableIterator<Value> {
    for (const e of this.map.values()) yield e.value;
  }

  /** Entries sorted by key in OPA's total order (cached until the next key change). */
  sortedEntries(): Array<[Value, Value]> {
    return this.sorted().map((e) => [e.key, e.value]);
  }

  /** Visits entries in OPA's key order without building pairs (serialisation's hot path). */
  forEachSorted(fn: (key: Value, value: Value) => void): void {
    for (const e of this.sorted()) fn(e.key, e.value);
  }

  /** Keys in OPA's order; the array is shared (cached), do not mutate it. */
  sortedKeys(): readonly Value[] {
    return (this.sortedKeysCache ??= this.sorted().map((e) => e.key));
  }

  private sorted(): readonly Entry[] {
    return (this.sortedCache ??= [...this.map.values()].sort((a, b) => compare(a.key, b.key)));
  }

  /** Shallow copy (safe to mutate without touching this object). */
  clone(): RegoObject {
    const o = new RegoObject();
    for (const e of this.map.values()) o.set(e.key, e.value);
    return o;
  }
}
