import type { Decision } from './policy-client';

/**
 * Identical inputs get the same decision for a short while: the key is the decision path and the
 * input's JSON text (the input holds no per-request ids, so repeated calls by one subject hit).
 * Bounded; the oldest entry goes first.
 */
export class DecisionCache {
  private readonly entries = new Map<string, { decision: Decision; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
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
