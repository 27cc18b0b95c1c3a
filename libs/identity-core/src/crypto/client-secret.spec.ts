import { describe, expect, it } from 'vitest';
import { ClientSecretHasher, isGeneratedSecret, PasswordHasher } from '../index';

const passwords = new PasswordHasher({ logN: 8, r: 8, p: 1 });
const secrets = new ClientSecretHasher(passwords);
const generated = `cs_${'A'.repeat(20)}${'b'.repeat(23)}`;

describe('ClientSecretHasher', () => {
  it('recognises the secrets identity generates: cs_ and 256 bits in base64url', () => {
    expect(isGeneratedSecret(generated)).toBe(true);
    expect(isGeneratedSecret('demo-gateway-secret-change-me')).toBe(false);
    expect(isGeneratedSecret(`${generated}x`)).toBe(false);
  });

  it('stores a generated secret as a salted HMAC, verified without scrypt', async () => {
    const a = await secrets.hash(generated);
    const b = await secrets.hash(generated);
    expect(a).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    const scrypts = passwords.verifications;
    expect(await secrets.verify(generated, a)).toBe(true);
    expect(await secrets.verify(`${generated.slice(0, -1)}c`, a)).toBe(false);
    expect(passwords.verifications).toBe(scrypts);
  });

  it('keeps scrypt for a chosen secret and still verifies stored scrypt hashes of either kind', async () => {
    expect(await secrets.hash('a person chose this')).toMatch(/^scrypt\$/);
    const legacy = await passwords.hash(generated);
    expect(await secrets.verify(generated, legacy)).toBe(true);
    expect(secrets.needsUpgrade(generated, legacy)).toBe(true);
    expect(secrets.needsUpgrade('a person chose this', await passwords.hash('a person chose this'))).toBe(false);
    expect(secrets.needsUpgrade(generated, secrets.fastHash(generated))).toBe(false);
  });

  it('never matches a malformed HMAC hash', async () => {
    expect(await secrets.verify(generated, 'hmac-sha256$short$short')).toBe(false);
  });
});
