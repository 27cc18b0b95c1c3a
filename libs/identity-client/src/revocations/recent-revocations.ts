import type { IntrospectionResponse, RevocationMessage } from '@cloud-stack/contracts';

/**
 * Revocations heard in the last `retainMs`, to check answers that arrive after them. Evicting the
 * cache is not enough: a request already in flight when a message arrives, or one answered by an
 * identity instance that has not processed the message yet, would put the revoked token straight
 * back. Identity instances that miss a message re-read revocations from their database every
 * SYNC_INTERVAL_SECONDS (10 s by default), so a window well above that plus a request timeout
 * covers both cases. A revocation never ends, so remembering one longer is never wrong: the window
 * only bounds memory.
 */
export class RecentRevocations {
  private readonly jtis = new Map<string, number>();
  private readonly hashes = new Map<string, number>();
  private readonly subjects = new Map<string, { notBefore: number; forgetAt: number }>();

  constructor(private readonly retainMs: number) {}

  record(message: RevocationMessage, now: number): void {
    this.prune(now);
    const forgetAt = now + this.retainMs;
    if (message.jti !== undefined) renew(this.jtis, message.jti, forgetAt);
    if (message.token_sha256 !== undefined) renew(this.hashes, message.token_sha256, forgetAt);
    if (message.sub !== undefined && message.not_before !== undefined) {
      const previous = this.subjects.get(message.sub);
      renew(this.subjects, message.sub, { notBefore: Math.max(previous?.notBefore ?? message.not_before, message.not_before), forgetAt });
    }
  }

  /** Whether a revocation heard recently concerns the token (hash `key`) that `response` describes. */
  revokes(key: string, response: IntrospectionResponse): boolean {
    if (!response.active) return false;
    if (this.hashes.has(key)) return true;
    if (response.jti !== undefined && this.jtis.has(response.jti)) return true;
    if (response.sub === undefined) return false;
    const cutoff = this.subjects.get(response.sub);
    return cutoff !== undefined && (response.iat === undefined || response.iat < cutoff.notBefore);
  }

  private prune(now: number): void {
    dropUntil(this.jtis, (forgetAt) => forgetAt > now);
    dropUntil(this.hashes, (forgetAt) => forgetAt > now);
    dropUntil(this.subjects, (cutoff) => cutoff.forgetAt > now);
  }
}

/** Sets `key` at the end of `map`'s insertion order, so the maps stay ordered by forgetAt. */
function renew<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

/** Deletes from the front of `map` (the oldest) until `keep` holds. */
function dropUntil<V>(map: Map<string, V>, keep: (value: V) => boolean): void {
  for (const [key, value] of map) {
    if (keep(value)) return;
    map.delete(key);
  }
}
