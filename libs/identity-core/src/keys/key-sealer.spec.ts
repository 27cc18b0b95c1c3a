import { describe, expect, it } from 'vitest';
import { KeySealer } from './key-sealer';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
const OLD = 'an-old-secret-that-is-long-enough-0001';
const NEW = 'a-new-secret-that-is-long-enough-00002';

describe('KeySealer', () => {
  it('stores keys as plain PEM when no secret is configured', () => {
    const sealer = new KeySealer([]);
    expect(sealer.enabled).toBe(false);
    expect(sealer.seal(PEM, 'kid-1')).toBe(PEM);
    expect(sealer.open(PEM, 'kid-1')).toBe(PEM);
    expect(sealer.needsReseal(PEM)).toBe(false);
  });

  it('seals with a fresh IV each time and opens what it sealed', () => {
    const sealer = new KeySealer([OLD]);
    const a = sealer.seal(PEM, 'kid-1');
    const b = sealer.seal(PEM, 'kid-1');
    expect(a).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(a).not.toContain('PRIVATE KEY');
    expect(a).not.toBe(b);
    expect(sealer.open(a, 'kid-1')).toBe(PEM);
  });

  it('refuses a sealed key that was altered or moved to another kid', () => {
    const sealer = new KeySealer([OLD]);
    const sealed = sealer.seal(PEM, 'kid-1');
    const body = sealed.slice(sealed.lastIndexOf(':') + 1);
    const flipped = sealed.slice(0, sealed.lastIndexOf(':') + 1) + (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
    expect(() => sealer.open(flipped, 'kid-1')).toThrow(/kid-1 does not decrypt/);
    expect(() => sealer.open(sealed, 'kid-2')).toThrow(/kid-2 does not decrypt/);
  });

  it('rotates: the first secret seals, every secret opens, and older seals ask to be redone', () => {
    const before = new KeySealer([OLD]).seal(PEM, 'kid-1');
    const rotated = new KeySealer([NEW, OLD]);
    expect(rotated.open(before, 'kid-1')).toBe(PEM);
    expect(rotated.needsReseal(before)).toBe(true);
    expect(rotated.needsReseal(PEM)).toBe(true);
    expect(rotated.needsReseal(rotated.seal(PEM, 'kid-1'))).toBe(false);
  });

  it('names the key when its secret is missing', () => {
    const sealed = new KeySealer([OLD]).seal(PEM, 'kid-1');
    expect(() => new KeySealer([NEW]).open(sealed, 'kid-1')).toThrow(/signing key kid-1 is encrypted with a secret that is not in SIGNING_KEY_SECRETS/);
    expect(() => new KeySealer([]).open(sealed, 'kid-1')).toThrow(/not in SIGNING_KEY_SECRETS/);
  });
});
