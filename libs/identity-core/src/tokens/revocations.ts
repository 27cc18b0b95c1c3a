import { revocationChannel, type RevocationMessage } from '@cloud-stack/contracts';
import { sql, type Kysely } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import type { IdentityDatabase } from '../db/schema';
import type { RedisBus } from '../events/redis-bus';

/** A subject's "not before": its access tokens issued (iat) before `notBefore` are revoked. */
interface SubjectCutoff {
  /** Epoch seconds. */
  readonly notBefore: number;
  /** Epoch ms after which every token the cutoff concerns has expired anyway. */
  readonly expMs: number;
}

/**
 * Revoked access tokens: single tokens by `jti`, and every token of a subject issued before a
 * cutoff (a user disabled, deleted, or given other roles; a client deleted). The database is the
 * record; every instance keeps what is unexpired in memory (a lookup per introspection costs
 * nothing), fed by the Redis channel at once and by a periodic incremental read of the tables in
 * case a message was missed.
 */
export class RevocationStore {
  private readonly revoked = new Map<string, number>();
  private readonly subjects = new Map<string, SubjectCutoff>();
  private syncedUpTo = new Date(0);
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly bus: RedisBus,
    private readonly logger: Logger,
    /** Lifetime of access tokens: a subject cutoff matters this long. */
    private readonly accessTokenTtlSeconds: number,
  ) {}

  /** Where revocations are announced: the contract's channel under this instance's Redis prefix. */
  private get channel(): string {
    return revocationChannel(this.bus.prefix);
  }

  async start(): Promise<void> {
    await this.bus.subscribeChannel(this.channel, (raw) => {
      const msg = JSON.parse(raw) as RevocationMessage;
      if (typeof msg.jti === 'string' && typeof msg.exp === 'number') this.remember(msg.jti, msg.exp * 1000);
      if (typeof msg.sub === 'string' && typeof msg.not_before === 'number') this.rememberSubject(msg.sub, msg.not_before);
    });
    this.bus.onResubscribed(() => void this.sync());
    await this.sync();
  }

  /** Whether the access token `jti` of `sub`, issued at `iat` (epoch seconds), is revoked. */
  isRevoked(jti: string, sub?: string, iat?: number): boolean {
    const now = Date.now();
    const exp = this.revoked.get(jti);
    if (exp !== undefined && exp > now) return true;
    if (sub === undefined || iat === undefined) return false;
    const cutoff = this.subjects.get(sub);
    return cutoff !== undefined && cutoff.expMs > now && iat < cutoff.notBefore;
  }

  /**
   * The earliest `iat` a new token of `sub` may carry: a token issued in the same second as a
   * cutoff must not fall before it (iat has one-second resolution).
   */
  earliestIat(sub: string, now: number): number {
    const cutoff = this.subjects.get(sub);
    return cutoff !== undefined && cutoff.notBefore > now ? cutoff.notBefore : now;
  }

  /**
   * Revokes every access token of `sub` issued until now, and announces it. The cutoff is the start
   * of the next second, so a token issued earlier in the current second is revoked too.
   */
  async revokeSubject(sub: string): Promise<void> {
    const notBefore = Math.floor(Date.now() / 1000) + 1;
    const expires = new Date((notBefore + this.accessTokenTtlSeconds) * 1000);
    await this.db
      .insertInto('subject_revocations')
      .values({ sub, not_before: new Date(notBefore * 1000), expires_at: expires })
      .onConflict((oc) =>
        oc.column('sub').doUpdateSet({
          not_before: sql<Date>`greatest(subject_revocations.not_before, excluded.not_before)`,
          expires_at: sql<Date>`greatest(subject_revocations.expires_at, excluded.expires_at)`,
          revoked_at: sql<Date>`now()`,
        }),
      )
      .execute();
    this.rememberSubject(sub, notBefore);
    await this.bus.publishChannel(this.channel, { sub, not_before: notBefore } satisfies RevocationMessage);
  }

  /** Records the revocation of access token `jti` (valid until `exp`, seconds) and announces it. */
  async revoke(jti: string, exp: number, tokenSha256?: string): Promise<void> {
    await this.revokeMany([{ jti, exp, token_sha256: tokenSha256 }]);
  }

  async revokeMany(tokens: ReadonlyArray<{ jti: string; exp: number; token_sha256?: string; family_id?: string }>): Promise<void> {
    const live = tokens.filter((t) => t.exp * 1000 > Date.now());
    if (!live.length) return;
    await this.db
      .insertInto('revoked_tokens')
      .values(live.map((t) => ({ jti: t.jti, expires_at: new Date(t.exp * 1000) })))
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
    for (const t of live) {
      this.remember(t.jti, t.exp * 1000);
      const message: RevocationMessage = { jti: t.jti, exp: t.exp };
      if (t.token_sha256) message.token_sha256 = t.token_sha256;
      if (t.family_id) message.family_id = t.family_id;
      await this.bus.publishChannel(this.channel, message);
    }
  }

  /** Reads revocations recorded since the last read (a full read the first time). */
  sync(): Promise<void> {
    this.syncing ??= this.readNew()
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'revocation sync failed'))
      .finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async readNew(): Promise<void> {
    const now = Date.now();
    // Overlap a little: rows committed late may carry a slightly older revoked_at.
    const since = new Date(this.syncedUpTo.getTime() - 5_000);
    const rows = await this.db
      .selectFrom('revoked_tokens')
      .select(['jti', 'expires_at', 'revoked_at'])
      .where('revoked_at', '>', since)
      .where('expires_at', '>', new Date(now))
      .execute();
    const subjects = await this.db
      .selectFrom('subject_revocations')
      .select(['sub', 'not_before', 'revoked_at'])
      .where('revoked_at', '>', since)
      .where('expires_at', '>', new Date(now))
      .execute();
    let newest = this.syncedUpTo;
    for (const r of rows) {
      this.remember(r.jti, r.expires_at.getTime());
      if (r.revoked_at > newest) newest = r.revoked_at;
    }
    for (const r of subjects) {
      this.rememberSubject(r.sub, Math.floor(r.not_before.getTime() / 1000));
      if (r.revoked_at > newest) newest = r.revoked_at;
    }
    this.syncedUpTo = newest;
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
    for (const [sub, cutoff] of this.subjects) if (cutoff.expMs <= now) this.subjects.delete(sub);
  }

  /** Deletes expired rows; they can no longer matter. Returns how many of each. */
  async purgeExpired(): Promise<{ revoked_tokens: number; subject_revocations: number }> {
    const [tokens] = await this.db.deleteFrom('revoked_tokens').where('expires_at', '<', new Date()).execute();
    const [subjects] = await this.db.deleteFrom('subject_revocations').where('expires_at', '<', new Date()).execute();
    return { revoked_tokens: Number(tokens?.numDeletedRows ?? 0), subject_revocations: Number(subjects?.numDeletedRows ?? 0) };
  }

  private remember(jti: string, expMs: number): void {
    if (expMs > Date.now()) this.revoked.set(jti, expMs);
  }

  private rememberSubject(sub: string, notBefore: number): void {
    const prev = this.subjects.get(sub);
    if (prev && prev.notBefore >= notBefore) return;
    const expMs = (notBefore + this.accessTokenTtlSeconds) * 1000;
    if (expMs > Date.now()) this.subjects.set(sub, { notBefore, expMs });
  }
}
