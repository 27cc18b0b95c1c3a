import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AuthorizationCodesTable, IdentityDatabase } from '../db/schema';
import { randomToken, sha256Hex } from '../crypto/hash';
import type { RefreshTokens } from './refresh-tokens';
import type { RevocationStore } from './revocations';

export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;

/** Codes live at most this long (RFC 6749 §4.1.2 recommends at most 10 minutes; a redirect takes seconds). */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;
/** A spent or expired code is kept this long so that its reuse is still recognised. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;

export interface CodeGrant {
  readonly clientId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
}

/** What the token endpoint issued from a code, so a replay of the code can revoke it. */
export interface IssuedFromCode {
  readonly familyId: string | null;
  readonly access: { readonly jti: string; readonly exp: number; readonly sha256: string };
}

export type RedeemFailure = 'unknown' | 'reused' | 'expired' | 'rejected';

/**
 * Authorization codes (RFC 6749 §4.1.2): single use, short-lived, stored as SHA-256 with the
 * client, redirect URI and PKCE challenge they are bound to. A code presented after it was spent
 * revokes the access token and refresh token family issued from it (§4.1.2, RFC 9700 §4.5).
 */
export class AuthorizationCodes {
  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly refreshTokens: RefreshTokens,
    private readonly revocations: RevocationStore,
  ) {}

  async create(grant: CodeGrant): Promise<string> {
    const code = randomToken('ac_');
    // Sign-ins are rare next to token calls: clearing long-dead codes here needs no scheduler.
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<', new Date(Date.now() - KEEP_AFTER_EXPIRY_MS)).execute();
    await this.db
      .insertInto('authorization_codes')
      .values({
        code_sha256: sha256Hex(code),
        client_id: grant.clientId,
        user_id: grant.userId,
        tenant_id: grant.tenantId,
        redirect_uri: grant.redirectUri,
        code_challenge: grant.codeChallenge,
        scope: grant.scope,
        expires_at: new Date(Date.now() + AUTHORIZATION_CODE_TTL_SECONDS * 1000),
      })
      .execute();
    return code;
  }

  /**
   * Spends `code` and lets `next` issue the tokens inside the same transaction. `next` sees the
   * stored row and returns undefined to refuse (wrong client, redirect URI or verifier, user
   * gone); a refused attempt leaves the code unspent, as it proved nothing.
   */
  async redeem<T>(
    code: string,
    next: (row: AuthorizationCodeRow, trx: Transaction<IdentityDatabase>) => Promise<{ value: T; issued: IssuedFromCode } | undefined>,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: RedeemFailure }> {
    if (code.length > 512) return { ok: false, reason: 'unknown' };
    let replayed: AuthorizationCodeRow | undefined;
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('authorization_codes').selectAll().where('code_sha256', '=', sha256Hex(code)).forUpdate().executeTakeFirst();
      if (!row) return { ok: false as const, reason: 'unknown' as const };
      if (row.used_at) {
        replayed = row;
        return { ok: false as const, reason: 'reused' as const };
      }
      if (row.expires_at.getTime() <= Date.now()) return { ok: false as const, reason: 'expired' as const };
      const result = await next(row, trx);
      if (!result) return { ok: false as const, reason: 'rejected' as const };
      const { familyId, access } = result.issued;
      await trx
        .updateTable('authorization_codes')
        .set({ used_at: new Date(), family_id: familyId, access_jti: access.jti, access_sha256: access.sha256, access_expires_at: new Date(access.exp * 1000) })
        .where('code_sha256', '=', row.code_sha256)
        .execute();
      return { ok: true as const, value: result.value };
    });
    if (replayed) await this.revokeIssued(replayed);
    return outcome;
  }

  private async revokeIssued(row: AuthorizationCodeRow): Promise<void> {
    if (row.family_id) await this.refreshTokens.revokeFamily(row.family_id);
    // Without a refresh token (a client not allowed one) the access token is revoked on its own.
    else if (row.access_jti && row.access_expires_at) {
      await this.revocations.revoke(row.access_jti, Math.floor(row.access_expires_at.getTime() / 1000), row.access_sha256 ?? undefined);
    }
  }
}
