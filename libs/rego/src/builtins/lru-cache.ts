/**
 * A bounded least-recently-used map for compiled patterns. OPA keeps its compiled regexps and
 * globs in process-wide caches of bounded size; a policy reuses a handful of patterns, so a hot
 * decision never recompiles, and patterns built from input cannot grow the cache without bound.
 */
export class LruCache<V> {
  // A Map iterates in insertion order: re-inserting on a hit keeps the coldest entry first.
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new TypeError(`LruCache capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value for `key`, computing and storing it with `make` on a miss. */
  getOrCreate(key: string, make: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    // `make` may throw (a bad pattern): nothing is stored then, as OPA caches only successes.
    const value = make();
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }
}
