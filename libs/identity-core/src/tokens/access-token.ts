import { uuidv7, type AccessTokenClaims, type Role } from '@cloud-stack/contracts';
import type { KeyStore } from '../keys/key-store';
import { encodeHeader, signEs256, verifyEs256 } from './jws';
import type { RevocationStore } from './revocations';

export interface TokenSubject {
  readonly sub: string;
  readonly client_id: string;
  readonly scope: string;
  readonly tenant_id: string;
  readonly roles: readonly Role[];
  readonly is_governor: boolean;
  readonly trial_mode: boolean;
  readonly agent_id: string | null;
  readonly email: string | null;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
}

export type VerifyFailure = 'malformed' | 'algorithm' | 'unknown_kid' | 'invalid' | 'revoked';
export type VerifyResult = { readonly ok: true; readonly claims: AccessTokenClaims } | { readonly ok: false; readonly reason: VerifyFailure };

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** How many verified tokens to remember (0: verify the signature every time). */
  readonly verifiedCacheSize?: number;
}

const MAX_TOKEN_LENGTH = 8192;

function header(token: string): { alg?: unknown; kid?: unknown } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as { alg?: unknown; kid?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** Issues and verifies ES256 access tokens (RFC 9068 shape) with the keys of a KeyStore. */
export class AccessTokens {
  /**
   * Tokens whose signature, issuer and audience already checked out, by their exact text. A hit
   * still re-checks expiry, revocation and that the signing key may still verify, so the answer is
   * the one a full verification would give — minus the ~80 µs ECDSA verification.
   */
  private readonly verified = new Map<string, { readonly kid: string; readonly claims: AccessTokenClaims }>();
  /** Entries kept at most; 0 turns the cache off. */
  cacheLimit: number;
  /** The encoded JWS header per signing key. */
  private readonly headers = new Map<string, string>();

  constructor(
    private readonly keys: KeyStore,
    private readonly revocations: RevocationStore,
    readonly options: AccessTokenOptions,
  ) {
    this.cacheLimit = options.verifiedCacheSize ?? 10_000;
  }

  issue(subject: TokenSubject, at = Math.floor(Date.now() / 1000)): IssuedAccessToken {
    const key = this.keys.signingKey();
    const now = this.revocations.earliestIat(subject.sub, at);
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      aud: this.options.audience,
      sub: subject.sub,
      iat: now,
      exp: now + this.options.ttlSeconds,
      jti: uuidv7(),
      client_id: subject.client_id,
      scope: subject.scope,
      tenant_id: subject.tenant_id,
      roles: [...subject.roles],
      is_governor: subject.is_governor,
      trial_mode: subject.trial_mode,
      agent_id: subject.agent_id,
      email: subject.email,
    };
    let head = this.headers.get(key.kid);
    if (head === undefined) {
      if (this.headers.size > 16) this.headers.clear();
      this.headers.set(key.kid, (head = encodeHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })));
    }
    const token = signEs256(head, claims, key.privateKey);
    return { token, claims };
  }

  /**
   * Verifies signature (ES256 only, a known `kid`), issuer, audience, expiry and revocation.
   * Anything else — `alg: none`, HMAC with the public key as secret, garbage — is a failure.
   */
  async verify(token: string): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
    const hit = this.cacheLimit > 0 ? this.verified.get(token) : undefined;
    if (hit) {
      if (Math.floor(Date.now() / 1000) >= hit.claims.exp || !this.keys.verificationKey(hit.kid)) {
        this.verified.delete(token);
        return { ok: false, reason: 'invalid' };
      }
      if (this.revocations.isRevoked(hit.claims.jti, hit.claims.sub, hit.claims.iat)) return { ok: false, reason: 'revoked' };
      return { ok: true, claims: hit.claims };
    }
    const h = header(token);
    if (!h) return { ok: false, reason: 'malformed' };
    if (h.alg !== 'ES256') return { ok: false, reason: 'algorithm' };
    if (typeof h.kid !== 'string') return { ok: false, reason: 'unknown_kid' };
    let key = this.keys.verificationKey(h.kid);
    if (!key && this.keys.mayReloadFor(h.kid)) {
      await this.keys.reload();
      key = this.keys.verificationKey(h.kid);
    }
    if (!key) return { ok: false, reason: 'unknown_kid' };
    const claims = this.checkClaims(verifyEs256(token, key), true);
    if (!claims) return { ok: false, reason: 'invalid' };
    if (this.cacheLimit > 0) {
      if (this.verified.size >= this.cacheLimit) this.verified.clear();
      this.verified.set(token, { kid: h.kid, claims });
    }
    if (this.revocations.isRevoked(claims.jti, claims.sub, claims.iat)) return { ok: false, reason: 'revoked' };
    return { ok: true, claims };
  }

  /**
   * The claims of a signature-checked payload when the issuer is ours, it is not before its `nbf`
   * and carries the claims every token of ours has; for a use (`checkExpiry`) also the audience and
   * expiry, as a JWT library's verify would check them.
   */
  private checkClaims(payload: Record<string, unknown> | undefined, checkExpiry: boolean): AccessTokenClaims | undefined {
    if (!payload) return undefined;
    const { iss, aud, exp, iat, nbf, jti, sub, tenant_id } = payload;
    if (iss !== this.options.issuer) return undefined;
    if (checkExpiry && (Array.isArray(aud) ? !aud.includes(this.options.audience) : aud !== this.options.audience)) return undefined;
    if (typeof exp !== 'number' || typeof iat !== 'number' || typeof jti !== 'string' || typeof sub !== 'string' || typeof tenant_id !== 'string') return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (checkExpiry && now >= exp) return undefined;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return undefined;
    return payload as unknown as AccessTokenClaims;
  }

  /** The claims of a token signed by us, without checking expiry or revocation (for revoking it). */
  decodeOwn(token: string): AccessTokenClaims | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const h = header(token);
    if (!h || h.alg !== 'ES256' || typeof h.kid !== 'string') return undefined;
    const key = this.keys.verificationKey(h.kid);
    if (!key) return undefined;
    return this.checkClaims(verifyEs256(token, key), false);
  }
}
