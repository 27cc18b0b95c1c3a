import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** N = 2^logN */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function derive(secret: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFKC'), salt, length, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 16 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes and verifies passwords and client secrets with scrypt. Hashes describe themselves
 * (`scrypt$ln=15,r=8,p=1$<salt>$<hash>`, base64url), so the cost can change without a migration.
 */
export class PasswordHasher {
  /** How many verifications ran (a dummy one for an unknown user counts too); tests read it. */
  verifications = 0;
  private dummy: Promise<string> | undefined;

  constructor(readonly params: ScryptParams) {}

  async hash(secret: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await derive(secret, salt, this.params, KEY_LENGTH);
    const { logN, r, p } = this.params;
    return `scrypt$ln=${logN},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  /** True when `secret` matches `stored`; a malformed stored hash never matches. */
  async verify(secret: string, stored: string): Promise<boolean> {
    this.verifications++;
    const m = FORMAT.exec(stored);
    if (!m) return false;
    const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    if (params.logN > 20 || params.r > 32 || params.p > 16) return false;
    const expected = Buffer.from(m[5]!, 'base64url');
    if (expected.length < 16) return false;
    const actual = await derive(secret, Buffer.from(m[4]!, 'base64url'), params, expected.length);
    return timingSafeEqual(actual, expected);
  }

  /**
   * Burns the same work as a real verification, for unknown users and clients, so the answer
   * takes comparable time whether or not the account exists. Always false.
   */
  async verifyDummy(secret: string): Promise<false> {
    this.dummy ??= this.hash(randomBytes(16).toString('hex'));
    await this.verify(secret, await this.dummy);
    return false;
  }
}
