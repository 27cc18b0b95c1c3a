import type { Decision } from './policy-client';

/**
 * Identical inputs get the same decision for a short while (the input holds no per-request ids, so
 * repeated calls by one subject hit). The caller's key says what the input is made of; `serial`
 * stands for an object in it that never changes (a route, a subject). Bounded; the oldest entry
 * goes first.
 */
export class DecisionCache {
  private readonly entries = new Map<string, { decision: Decision; expiresAt: number }>();
  private readonly serials = new WeakMap<object, number>();
  private nextSerial = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** A number for this object, the same for as long as it lives, never reused for another. */
  serial(of: object): number {
    let n = this.serials.get(of);
    if (n === undefined) this.serials.set(of, (n = this.nextSerial++));
    return n;
  }

  get(key: string, now: number): Decision | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt > now) return hit.decision;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, decision: Decision, now: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { decision, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
