import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BundleSigningConfig, KeyConfig } from '../../src/config/opa-config';
import { parseBundle } from '../../src/bundles/bundle';
import { signBundle, type SigningKey } from '../../src/bundles/signatures';
import { filesOf } from './bundle-server';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: { export(o: { type: 'spki' | 'pkcs8'; format: 'pem' }): string | Buffer }, type: 'spki' | 'pkcs8') => String(k.export({ type, format: 'pem' }));

const keys: Record<string, KeyConfig> = {
  rsa: { algorithm: 'RS256', key: pem(rsa.publicKey, 'spki') },
  ec: { algorithm: 'ES256', key: pem(ec.publicKey, 'spki') },
  hmac: { algorithm: 'HS256', key: 'shared-secret' },
  scoped: { algorithm: 'RS256', key: pem(rsa.publicKey, 'spki'), scope: 'write' },
};
const rsaSigner: SigningKey = { algorithm: 'RS256', key: pem(rsa.privateKey, 'pkcs8'), keyid: 'rsa' };
const signing = (over: Partial<BundleSigningConfig> = {}): BundleSigningConfig => ({ exclude_files: [], ...over });

const content = () =>
  filesOf({
    '.manifest': '{"revision": "s1", "roots": ["authz"]}',
    'authz/policy.rego': 'package authz\n\nallow if input.ok\n',
    'authz/data.json': '{"limit": 1.50}',
  });

function signed(signer: SigningKey = rsaSigner): Map<string, Buffer> {
  const files = content();
  files.set('.signatures.json', signBundle(files, signer));
  return files;
}

describe('signed bundles (.signatures.json, as OPA verifies them)', () => {
  it('accepts bundles signed with RS256, ES256 and HS256 keys from the configuration', () => {
    expect(parseBundle(signed(), { keys, signing: signing() }).signed).toBe(true);
    const es = signed({ algorithm: 'ES256', key: pem(ec.privateKey, 'pkcs8'), keyid: 'ec' });
    expect(parseBundle(es, { keys, signing: signing() }).manifest.revision).toBe('s1');
    const hs = signed({ algorithm: 'HS256', key: 'shared-secret', keyid: 'hmac' });
    expect(parseBundle(hs, { keys, signing: signing() }).data).toEqual({ authz: { limit: 1.5 } });
  });

  it('takes the key id from signing.keyid before the token (a token without kid then verifies)', () => {
    const files = signed({ ...rsaSigner, keyid: undefined });
    expect(() => parseBundle(files, { keys, signing: signing() })).toThrow('verification key ID is empty');
    expect(parseBundle(files, { keys, signing: signing({ keyid: 'rsa' }) }).signed).toBe(true);
  });

  it('refuses a signature made with another key, an unknown key id, or an algorithm other than the key’s', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signed({ algorithm: 'RS256', key: pem(other.privateKey, 'pkcs8'), keyid: 'rsa' });
    expect(() => parseBundle(forged, { keys, signing: signing() })).toThrow('failed to verify JWS signature');
    expect(() => parseBundle(signed({ ...rsaSigner, keyid: 'nope' }), { keys, signing: signing() })).toThrow('verification key corresponding to ID nope not found');
    // An HMAC token made with the RSA public key as secret (the classic alg confusion) is refused.
    const confused = signed({ algorithm: 'HS256', key: keys['rsa']!.key, keyid: 'rsa' });
    expect(() => parseBundle(confused, { keys, signing: signing() })).toThrow("algorithm \"HS256\" is not the key's (RS256)");
  });

  it('refuses a file whose content changed after signing, a file not signed and a signed file missing', () => {
    const tampered = signed();
    tampered.set('authz/policy.rego', Buffer.from('package authz\n\nallow := true\n'));
    expect(() => parseBundle(tampered, { keys, signing: signing() })).toThrow('authz/policy.rego: digest mismatch');
    const extra = signed();
    extra.set('authz/extra.rego', Buffer.from('package authz\n'));
    expect(() => parseBundle(extra, { keys, signing: signing() })).toThrow('file authz/extra.rego not included in bundle signature');
    const missing = signed();
    missing.delete('authz/data.json');
    expect(() => parseBundle(missing, { keys, signing: signing() })).toThrow('file(s) [authz/data.json] specified in bundle signatures but not found in the target bundle');
  });

  it('ignores formatting of JSON files (the signature covers their canonical form) and honours exclude_files', () => {
    const files = signed();
    files.set('authz/data.json', Buffer.from('{\n  "limit" : 1.50\n}\n'));
    expect(parseBundle(files, { keys, signing: signing() }).signed).toBe(true);
    files.set('authz/notes.txt', Buffer.from('unsigned'));
    expect(parseBundle(files, { keys, signing: signing({ exclude_files: ['authz/*.txt'] }) }).signed).toBe(true);
  });

  it('checks the scope: the bundle’s signing.scope, else the key’s', () => {
    expect(() => parseBundle(signed({ ...rsaSigner, keyid: 'scoped' }), { keys, signing: signing() })).toThrow('scope mismatch');
    expect(parseBundle(signed({ ...rsaSigner, keyid: 'scoped', scope: 'write' }), { keys, signing: signing() }).signed).toBe(true);
    expect(() => parseBundle(signed({ ...rsaSigner, scope: 'read' }), { keys, signing: signing({ scope: 'write' }) })).toThrow('scope mismatch');
  });

  it('refuses a signed bundle without signing configuration, and an unsigned one when signing.keyid demands a signature', () => {
    expect(() => parseBundle(signed(), { keys })).toThrow('verification key not provided');
    expect(() => parseBundle(content(), { keys, signing: signing({ keyid: 'rsa' }) })).toThrow('bundle missing .signatures.json file');
    expect(parseBundle(content(), { keys, signing: signing() }).signed).toBe(false);
  });

  it('refuses a .signatures.json with no token or several', () => {
    const none = content();
    none.set('.signatures.json', Buffer.from('{"signatures": []}'));
    expect(() => parseBundle(none, { keys, signing: signing() })).toThrow('missing JWT (expected exactly one)');
    const two = signed();
    const token = JSON.parse(two.get('.signatures.json')!.toString()).signatures[0];
    two.set('.signatures.json', Buffer.from(JSON.stringify({ signatures: [token, token] })));
    expect(() => parseBundle(two, { keys, signing: signing() })).toThrow('multiple JWTs not supported');
  });
});
