import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PasswordHasher } from './password';

const FAST_PREFIX = 'hmac-sha256$';
const FAST_FORMAT = /^hmac-sha256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;
const SALT_LENGTH = 16;

/** What `randomToken('cs_')` makes: 256 random bits, base64url. */
const GENERATED_SECRET = /^cs_[A-Za-z0-9_-]{43}$/;

/** True for a client secret identity generated itself (256 random bits), as opposed to one a person chose. */
export function isGeneratedSecret(secret: string): boolean {
  return GENERATED_SECRET.test(secret);
}

function mac(secret: string, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

/**
 * Client secrets. A password needs scrypt because people choose guessable ones; a secret of 256
 * random bits cannot be guessed, so a salted HMAC-SHA256 (`hmac-sha256$<salt>$<mac>`) protects it
 * as well as scrypt would, at a millionth of the cost. Generated secrets (`cs_` + 256 bits) get
 * the fast form; any other secret (a seed's chosen one) keeps scrypt. A stored scrypt hash of a
 * generated secret still verifies, and `needsUpgrade` tells the caller to replace it with the fast
 * form once the secret is known to match: secrets created before this format migrate on first use.
 */
export class ClientSecretHasher {
  /** How many HMAC verifications ran (scrypt ones are counted by the PasswordHasher); tests read it. */
  fastVerifications = 0;

  constructor(readonly passwords: PasswordHasher) {}

  async hash(secret: string): Promise<string> {
    if (!isGeneratedSecret(secret)) return this.passwords.hash(secret);
    return this.fastHash(secret);
  }

  fastHash(secret: string): string {
    const salt = randomBytes(SALT_LENGTH);
    return `${FAST_PREFIX}${salt.toString('base64url')}$${mac(secret, salt).toString('base64url')}`;
  }

  /** True when `secret` matches `stored` (either form); a malformed stored hash never matches. */
  async verify(secret: string, stored: string): Promise<boolean> {
    if (!stored.startsWith(FAST_PREFIX)) return this.passwords.verify(secret, stored);
    this.fastVerifications++;
    const m = FAST_FORMAT.exec(stored);
    if (!m) return false;
    return timingSafeEqual(mac(secret, Buffer.from(m[1]!, 'base64url')), Buffer.from(m[2]!, 'base64url'));
  }

  /** The same work as a failed scrypt verification, for unknown clients. Always false. */
  verifyDummy(secret: string): Promise<false> {
    return this.passwords.verifyDummy(secret);
  }

  /** True when `stored` (known to match `secret`) should be replaced by the fast form. */
  needsUpgrade(secret: string, stored: string): boolean {
    return isGeneratedSecret(secret) && !stored.startsWith(FAST_PREFIX);
  }
}
