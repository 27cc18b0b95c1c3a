import { compare } from './compare';
import { keyOf } from './key';
import type { MapKey, Value } from './types';

/**
 * A Rego set. Membership goes through `keyOf`; iteration with `values()` is insertion order,
 * `sorted()` is OPA's order (what OPA serialises and what order-sensitive built-ins see).
 * Mutate (`add`/`delete`) only while building; treat as immutable once shared.
 */
export class RegoSet {
  private readonly map = new Map<MapKey, Value>();
  private sortedCache: Value[] | undefined;

  constructor(values?: Iterable<Value>) {
    if (values) for (const v of values) this.add(v);
  }

  static of(...values: Value[]): RegoSet {
    return new RegoSet(values);
  }

  get size(): number {
    return this.map.size;
  }

  /** Adds v; returns false when an equal element was already present. */
  add(v: Value): boolean {
    const k = keyOf(v);
    if (this.map.has(k)) return false;
    this.map.set(k, v);
    this.sortedCache = undefined;
    return true;
  }

  delete(v: Value): boolean {
    const ok = this.map.delete(keyOf(v));
    if (ok) this.sortedCache = undefined;
    return ok;
  }

  has(v: Value): boolean {
    return this.map.has(keyOf(v));
  }

  /** The stored element equal to v (useful to get the canonical instance). */
  get(v: Value): Value | undefined {
    return this.map.get(keyOf(v));
  }

  values(): IterableIterator<Value> {
    return this.map.values();
  }

  [Symbol.iterator](): IterableIterator<Value> {
    return this.map.values();
  }

  toArray(): Value[] {
    return [...this.map.values()];
  }

  /** Elements in OPA's total order (cached until the next mutation). */
  sorted(): readonly Value[] {
    if (!this.sortedCache) this.sortedCache = [...this.map.values()].sort(compare);
    return this.sortedCache;
  }

  union(other: RegoSet): RegoSet {
    const out = new RegoSet(this.map.values());
    for (const v of other.values()) out.add(v);
    return out;
  }

  intersect(other: RegoSet): RegoSet {
    const [small, big] = this.size <= other.size ? [this, other] : [other, this];
    const out = new RegoSet();
    for (const v of small.values()) if (big.has(v)) out.add(v);
    return out;
  }

  diff(other: RegoSet): RegoSet {
    const out = new RegoSet();
    for (const v of this.map.values()) if (!other.has(v)) out.add(v);
    return out;
  }
}
