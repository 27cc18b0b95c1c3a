import { REVOCATION_CHANNEL, type RevocationMessage } from '@cloud-stack/contracts';
import type { Kysely } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import type { IdentityDatabase } from '../db/schema';
import type { RedisBus } from '../events/redis-bus';

/**
 * Revoked access-token ids. The database is the record; every instance keeps the unexpired ids in
 * memory (a lookup per introspection costs nothing), fed by the Redis channel at once and by a
 * periodic incremental read of the table in case a message was missed.
 */
export class RevocationStore {
  private readonly revoked = new Map<string, number>();
  private syncedUpTo = new Date(0);
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly bus: RedisBus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.bus.subscribe(REVOCATION_CHANNEL, (raw) => {
      const msg = JSON.parse(raw) as RevocationMessage;
      if (typeof msg.jti === 'string' && typeof msg.exp === 'number') this.remember(msg.jti, msg.exp * 1000);
    });
    this.bus.onResubscribed(() => void this.sync());
    await this.sync();
  }

  isRevoked(jti: string): boolean {
    const exp = this.revoked.get(jti);
    return exp !== undefined && exp > Date.now();
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
      await this.bus.publish(REVOCATION_CHANNEL, message);
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
    let newest = this.syncedUpTo;
    for (const r of rows) {
      this.remember(r.jti, r.expires_at.getTime());
      if (r.revoked_at > newest) newest = r.revoked_at;
    }
    this.syncedUpTo = newest;
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }

  /** Deletes expired rows; they can no longer matter. */
  async purgeExpired(): Promise<void> {
    await this.db.deleteFrom('revoked_tokens').where('expires_at', '<', new Date()).execute();
  }

  private remember(jti: string, expMs: number): void {
    if (expMs > Date.now()) this.revoked.set(jti, expMs);
  }
}
