import { uuidv7 } from '@cloud-stack/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { IdentityDatabase, RefreshTokensTable } from '../db/schema';
import { randomToken, sha256Hex } from '../crypto/hash';
import type { RevocationStore } from './revocations';

export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export interface RefreshGrant {
  readonly familyId?: string;
  readonly clientId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly scope: string;
  /** The access token issued alongside, revoked with the family. */
  readonly access: { readonly jti: string; readonly exp: number; readonly sha256: string };
}

export type ExchangeFailure = 'unknown' | 'wrong_client' | 'expired' | 'reused' | 'rejected';

/**
 * Opaque refresh tokens, stored as SHA-256. Every use spends the token and issues its successor
 * in the same family; presenting a spent token again revokes the family and its access tokens.
 */
export class RefreshTokens {
  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly revocations: RevocationStore,
    private readonly ttlSeconds: number,
  ) {}

  async issue(grant: RefreshGrant, db: Kysely<IdentityDatabase> = this.db): Promise<{ token: string; expiresAt: Date }> {
    const token = randomToken('rt_');
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1000);
    await db
      .insertInto('refresh_tokens')
      .values({
        id: uuidv7(),
        token_sha256: sha256Hex(token),
        family_id: grant.familyId ?? uuidv7(),
        client_id: grant.clientId,
        user_id: grant.userId,
        tenant_id: grant.tenantId,
        scope: grant.scope,
        access_jti: grant.access.jti,
        access_sha256: grant.access.sha256,
        access_expires_at: new Date(grant.access.exp * 1000),
        expires_at: expiresAt,
      })
      .execute();
    return { token, expiresAt };
  }

  async find(token: string): Promise<RefreshTokenRow | undefined> {
    if (typeof token !== 'string' || token.length > 512) return undefined;
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_sha256', '=', sha256Hex(token)).executeTakeFirst();
  }

  static isLive(row: RefreshTokenRow): boolean {
    return !row.used_at && !row.revoked_at && row.expires_at.getTime() > Date.now();
  }

  /**
   * Spends `token` (held by `clientId`) and lets `next` mint the successor inside the same
   * transaction. `next` returns undefined to refuse (user gone, scope widened).
   */
  async exchange<T>(
    token: string,
    clientId: string,
    next: (row: RefreshTokenRow, trx: Transaction<IdentityDatabase>) => Promise<T | undefined>,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: ExchangeFailure }> {
    if (typeof token !== 'string' || token.length > 512) return { ok: false, reason: 'unknown' };
    let reusedFamily: string | undefined;
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('refresh_tokens').selectAll().where('token_sha256', '=', sha256Hex(token)).forUpdate().executeTakeFirst();
      if (!row) return { ok: false as const, reason: 'unknown' as const };
      if (row.client_id !== clientId) return { ok: false as const, reason: 'wrong_client' as const };
      if (row.used_at || row.revoked_at) {
        reusedFamily = row.family_id;
        return { ok: false as const, reason: 'reused' as const };
      }
      if (row.expires_at.getTime() <= Date.now()) return { ok: false as const, reason: 'expired' as const };
      const value = await next(row, trx);
      if (value === undefined) return { ok: false as const, reason: 'rejected' as const };
      await trx.updateTable('refresh_tokens').set({ used_at: new Date() }).where('id', '=', row.id).execute();
      return { ok: true as const, value };
    });
    if (reusedFamily) await this.revokeFamily(reusedFamily);
    return outcome;
  }

  /** Revokes every refresh token of the family and every unexpired access token issued in it. */
  async revokeFamily(familyId: string): Promise<void> {
    const rows = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('family_id', '=', familyId)
      .returning(['access_jti', 'access_sha256', 'access_expires_at'])
      .execute();
    await this.revocations.revokeMany(
      rows
        .filter((r) => r.access_jti && r.access_expires_at)
        .map((r) => ({
          jti: r.access_jti!,
          exp: Math.floor(r.access_expires_at!.getTime() / 1000),
          family_id: familyId,
          ...(r.access_sha256 ? { token_sha256: r.access_sha256 } : {}),
        })),
    );
  }

  /** Revokes every live refresh token family of a user (and the access tokens issued in them). */
  async revokeUser(userId: string): Promise<void> {
    const families = await this.db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .distinct()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', new Date())
      .execute();
    for (const f of families) await this.revokeFamily(f.family_id);
  }

  /** Deletes refresh tokens expired for a day (kept that long so a late reuse is still recognised); returns how many. */
  async purgeExpired(): Promise<number> {
    const [result] = await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', new Date(Date.now() - 24 * 3600 * 1000)).execute();
    return Number(result?.numDeletedRows ?? 0);
  }
}
