import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const SEALED = 'enc:v1:';

interface Kek {
  /** First 8 hex digits of SHA-256(secret): names the secret a key was sealed with. */
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Encrypts private signing keys at rest (AES-256-GCM, a fresh IV per key, the key's `kid` as
 * associated data so a sealed key cannot be moved to another row), under keys derived from the
 * configured secrets, as Ory Hydra does with its system secret: the first secret seals, every
 * secret opens, so a secret is rotated by putting the new one first. Without secrets keys are
 * stored as plain PKCS#8 PEM (development).
 */
export class KeySealer {
  private readonly keks: readonly Kek[];

  constructor(secrets: readonly string[]) {
    this.keks = secrets.map((s) => ({
      id: createHash('sha256').update(s).digest('hex').slice(0, 8),
      key: Buffer.from(hkdfSync('sha256', s, 'cloud-stack/identity', 'signing-key-encryption/v1', 32)),
    }));
  }

  get enabled(): boolean {
    return this.keks.length > 0;
  }

  /** What to store for the PEM of key `kid`. */
  seal(pem: string, kid: string): string {
    const kek = this.keks[0];
    if (!kek) return pem;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek.key, iv).setAAD(Buffer.from(kid));
    const body = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
    return `${SEALED}${kek.id}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${body.toString('base64url')}`;
  }

  /** The PEM of key `kid` from what is stored; throws naming the key when it cannot. */
  open(stored: string, kid: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    const [id, iv, tag, body] = stored.slice(SEALED.length).split(':');
    const kek = this.keks.find((k) => k.id === id);
    if (!kek || !iv || !tag || !body) {
      throw new Error(`signing key ${kid} is encrypted with a secret that is not in SIGNING_KEY_SECRETS (secret id ${id ?? '?'})`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(kid));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`signing key ${kid} does not decrypt: the stored value was altered or belongs to another key`);
    }
  }

  /** True when the stored value should be sealed again: plain while secrets exist, or under an older secret. */
  needsReseal(stored: string): boolean {
    const kek = this.keks[0];
    if (!kek) return false;
    return !stored.startsWith(`${SEALED}${kek.id}:`);
  }
}
