import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { sql, type Kysely } from '@cloud-stack/db';
import type { IdentityDatabase } from '../db/schema';
import { KeySealer } from './key-sealer';

export const KEYS_CHANNEL = 'identity:keys';

export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: 'ES256';
}

interface VerificationKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly jwk: PublicJwk;
  readonly status: 'active' | 'retired';
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
  /** Epoch ms after which no token signed by this key can still be valid (Infinity while active). */
  readonly usableUntil: number;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface KeyStoreOptions {
  readonly accessTokenTtlSeconds: number;
  readonly retireGraceSeconds: number;
  /** Encrypts private keys at rest (default: none, keys stored as plain PEM). */
  readonly sealer?: KeySealer;
}

/** RFC 7638 thumbprint of a P-256 public key, used as its `kid`. */
function thumbprint(jwk: { crv?: string; kty?: string; x?: string; y?: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * ES256 signing keys. Keys live in the database (private key as PKCS#8 PEM, sealed by the
 * KeySealer when secrets are configured; public key as a JWK); in memory they are KeyObjects
 * built once per load, so signing and verifying never re-import a PEM.
 */
export class KeyStore {
  private signing: SigningKey | undefined;
  private verifiers = new Map<string, VerificationKey>();
  private lastLoad = 0;
  private loading: Promise<void> | undefined;

  private readonly sealer: KeySealer;

  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly options: KeyStoreOptions,
  ) {
    this.sealer = options.sealer ?? new KeySealer([]);
  }

  /** How long a retired key keeps verifying: the longest token lifetime plus the grace period. */
  private get retiredLifetimeMs(): number {
    return (this.options.accessTokenTtlSeconds + this.options.retireGraceSeconds) * 1000;
  }

  /** Loads the keys; creates the first signing key when there is none. */
  async init(): Promise<void> {
    await this.reseal();
    await this.reload();
    if (!this.signing) {
      await this.createKey(false);
      await this.reload();
    }
  }

  /**
   * Seals every stored private key that is plain or sealed under an older secret, so adding or
   * rotating SIGNING_KEY_SECRETS takes effect at the next start. Conditional on the old value:
   * instances starting together cannot overwrite each other's work.
   */
  private async reseal(): Promise<void> {
    if (!this.sealer.enabled) return;
    const rows = await this.db.selectFrom('signing_keys').select(['kid', 'private_key_pem']).execute();
    for (const row of rows) {
      if (!this.sealer.needsReseal(row.private_key_pem)) continue;
      const sealed = this.sealer.seal(this.sealer.open(row.private_key_pem, row.kid), row.kid);
      await this.db.updateTable('signing_keys').set({ private_key_pem: sealed }).where('kid', '=', row.kid).where('private_key_pem', '=', row.private_key_pem).execute();
    }
  }

  /** Re-reads the keys from the database (after a rotation elsewhere, or periodically). */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const horizon = new Date(Date.now() - this.retiredLifetimeMs);
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('status', '=', 'active'), eb('retired_at', '>', horizon)]))
      .orderBy('created_at', 'desc')
      .execute();
    const verifiers = new Map<string, VerificationKey>();
    let signing: SigningKey | undefined;
    for (const row of rows) {
      const existing = this.verifiers.get(row.kid);
      const privateKey =
        row.status !== 'active'
          ? undefined
          : this.signing?.kid === row.kid
            ? this.signing.privateKey
            : createPrivateKey(this.sealer.open(row.private_key_pem, row.kid));
      // Public keys come from the stored JWK: verifying never needs the private key opened.
      const publicKey = existing?.publicKey ?? createPublicKey({ key: { ...(row.public_jwk as unknown as JsonWebKey) }, format: 'jwk' });
      if (privateKey && !signing) signing = { kid: row.kid, privateKey };
      verifiers.set(row.kid, {
        kid: row.kid,
        publicKey,
        jwk: { ...(row.public_jwk as unknown as PublicJwk), kid: row.kid, use: 'sig', alg: 'ES256' },
        status: row.status,
        createdAt: row.created_at,
        retiredAt: row.retired_at,
        usableUntil: row.retired_at ? row.retired_at.getTime() + this.retiredLifetimeMs : Infinity,
      });
    }
    this.signing = signing;
    this.verifiers = verifiers;
    this.lastLoad = Date.now();
  }

  /** The key new tokens are signed with. */
  signingKey(): SigningKey {
    if (!this.signing) throw new TypeError('no active signing key: call init() first');
    return this.signing;
  }

  /** The public key for `kid`, if it may still verify tokens. */
  verificationKey(kid: string): KeyObject | undefined {
    const key = this.verifiers.get(kid);
    if (!key || key.usableUntil <= Date.now()) return undefined;
    return key.publicKey;
  }

  /** True when a reload may find a key this instance does not know (rate-limited to one per 5 s). */
  mayReloadFor(kid: string): boolean {
    return !this.verifiers.has(kid) && Date.now() - this.lastLoad > 5_000 && /^[A-Za-z0-9_-]{43}$/.test(kid);
  }

  /** The JWKS document: the active key and retired keys whose tokens may still be valid. */
  jwks(): { keys: PublicJwk[] } {
    const now = Date.now();
    return { keys: [...this.verifiers.values()].filter((k) => k.usableUntil > now).map((k) => k.jwk) };
  }

  /** Every known key with its state, for the admin API. */
  describe(): Array<{ kid: string; status: string; created_at: string; retired_at: string | null; verifies_until: string | null }> {
    return [...this.verifiers.values()].map((k) => ({
      kid: k.kid,
      status: k.status,
      created_at: k.createdAt.toISOString(),
      retired_at: k.retiredAt?.toISOString() ?? null,
      verifies_until: Number.isFinite(k.usableUntil) ? new Date(k.usableUntil).toISOString() : null,
    }));
  }

  /** Creates a new signing key and retires the active one; returns the new kid. */
  async rotate(): Promise<string> {
    const kid = await this.createKey(true);
    await this.reload();
    return kid;
  }

  private async createKey(retireActive: boolean): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const kid = thumbprint(jwk);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return this.db.transaction().execute(async (trx) => {
      // One rotation at a time, across instances.
      await sql`SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))`.execute(trx);
      if (!retireActive) {
        const active = await trx.selectFrom('signing_keys').select('kid').where('status', '=', 'active').executeTakeFirst();
        if (active) return active.kid;
      }
      await trx.updateTable('signing_keys').set({ status: 'retired', retired_at: new Date() }).where('status', '=', 'active').execute();
      await trx
        .insertInto('signing_keys')
        .values({ kid, algorithm: 'ES256', private_key_pem: this.sealer.seal(pem, kid), public_jwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }), status: 'active' })
        .execute();
      return kid;
    });
  }
}
