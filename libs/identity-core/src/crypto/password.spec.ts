import { describe, expect, it } from 'vitest';
import { PasswordHasher } from '../index';

const hasher = new PasswordHasher({ logN: 8, r: 8, p: 1 });

describe('PasswordHasher', () => {
  it('stores a self-describing scrypt hash with a per-hash salt', async () => {
    const a = await hasher.hash('correct horse');
    const b = await hasher.hash('correct horse');
    expect(a).toMatch(/^scrypt\$ln=8,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });

  it('verifies the right secret and rejects a wrong one', async () => {
    const stored = await hasher.hash('correct horse');
    expect(await hasher.verify('correct horse', stored)).toBe(true);
    expect(await hasher.verify('correct horsf', stored)).toBe(false);
  });

  it('verifies hashes made with other cost parameters', async () => {
    const stored = await new PasswordHasher({ logN: 9, r: 4, p: 2 }).hash('s3cret');
    expect(await hasher.verify('s3cret', stored)).toBe(true);
  });

  it('never matches a malformed or absurdly expensive stored hash', async () => {
    expect(await hasher.verify('x', 'plain-text')).toBe(false);
    expect(await hasher.verify('x', 'scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
  });

  it('counts a dummy verification like a real one', async () => {
    const before = hasher.verifications;
    expect(await hasher.verifyDummy('whatever')).toBe(false);
    expect(hasher.verifications).toBe(before + 1);
  });
});
