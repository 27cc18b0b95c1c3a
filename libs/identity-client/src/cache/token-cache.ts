import type { IntrospectionResponse } from '@cloud-stack/contracts';

/** One cached answer, under the SHA-256 of its token. */
export interface CacheEntry {
  readonly response: IntrospectionResponse;
  /** `response`, already resolved: a hit hands it out without allocating a promise. */
  readonly resolved: Promise<IntrospectionResponse>;
  /** Epoch ms after which the entry is not used. */
  readonly expiresAt: number;
  /** Set on active answers only: what revocation messages name. */
  readonly jti?: string;
  readonly sub?: string;
  readonly iat?: number;
}

/**
 * Introspection answers by token hash, at most `maxEntries` (the oldest insertion goes first),
 * indexed by `jti` and by `sub` so a revocation message finds its entries without a scan.
 */
export class TokenCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly byJti = new Map<string, string>();
  private readonly bySub = new Map<string, Set<string>>();
  /** Entries removed before they expired: capacity, revocations, clears. */
  evictions = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live entry of `key`, or undefined (an expired one is dropped on the way). */
  get(key: string, now: number): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.remove(key, entry);
    return undefined;
  }

  set(key: string, entry: CacheEntry): void {
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    else if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(key, entry);
    if (entry.jti !== undefined) this.byJti.set(entry.jti, key);
    if (entry.sub !== undefined) {
      let keys = this.bySub.get(entry.sub);
      if (!keys) this.bySub.set(entry.sub, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Evicts the entry of one token; returns how many entries went (0 or 1). */
  evictKey(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    this.remove(key, entry);
    this.evictions++;
    return 1;
  }

  evictJti(jti: string): number {
    const key = this.byJti.get(jti);
    return key === undefined ? 0 : this.evictKey(key);
  }

  /**
   * Evicts the tokens of `sub` issued before `notBefore` (epoch seconds), identity's rule exactly:
   * `iat < not_before`. A token issued in the cutoff's second carries iat = not_before and stays.
   */
  evictSubject(sub: string, notBefore: number): number {
    const keys = this.bySub.get(sub);
    if (!keys) return 0;
    let evicted = 0;
    for (const key of [...keys]) {
      const entry = this.entries.get(key);
      if (entry && (entry.iat === undefined || entry.iat < notBefore)) evicted += this.evictKey(key);
    }
    return evicted;
  }

  clear(): void {
    this.evictions += this.entries.size;
    this.entries.clear();
    this.byJti.clear();
    this.bySub.clear();
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.evictKey(oldest.value);
  }

  private remove(key: string, entry: CacheEntry): void {
    this.entries.delete(key);
    if (entry.jti !== undefined && this.byJti.get(entry.jti) === key) this.byJti.delete(entry.jti);
    if (entry.sub !== undefined) {
      const keys = this.bySub.get(entry.sub);
      if (keys) {
        keys.delete(key);
        if (keys.size === 0) this.bySub.delete(entry.sub);
      }
    }
  }
}
