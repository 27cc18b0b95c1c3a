import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, X509Certificate, constants, type KeyObject } from 'node:crypto';
import type { BundleSigningConfig, KeyConfig, SigningAlgorithm } from '../config/opa-config';
import { BundleError, type BundleFiles } from './archive';
import { hashBundleFile, isHashingAlgorithm } from './hash';

export const SIGNATURES_FILE = '.signatures.json';

/** One entry of the JWT's `files` claim. */
export interface SignedFile {
  readonly name: string;
  readonly hash: string;
  readonly algorithm: string;
}

interface SignaturePayload {
  readonly files?: unknown;
  readonly keyid?: unknown;
  readonly scope?: unknown;
}

const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

function digestOf(alg: SigningAlgorithm): string {
  return `sha${alg.slice(2)}`;
}

function publicKeyOf(pem: string): KeyObject {
  if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey;
  // A private key works too (OPA accepts one): its public half verifies.
  return createPublicKey(pem);
}

function verifyJws(alg: SigningAlgorithm, key: string, signingInput: string, signature: Buffer): boolean {
  if (alg.startsWith('HS')) {
    const expected = createHmac(digestOf(alg), key).update(signingInput).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  let keyObject: KeyObject;
  try {
    keyObject = publicKeyOf(key);
  } catch (err) {
    throw new BundleError(`the verification key is not a PEM public key or certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  const data = Buffer.from(signingInput);
  if (alg.startsWith('RS')) return verify(digestOf(alg), data, { key: keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
  if (alg.startsWith('PS')) {
    return verify(digestOf(alg), data, { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  }
  return verify(digestOf(alg), data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, signature);
}

function decodePart(part: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BundleError(`failed to parse JWT ${what}`);
}

/**
 * Verifies `.signatures.json` as OPA's default verifier does (bundle/verify.go): exactly one JWT;
 * the key id from the bundle's `signing.keyid`, else the JWT header's `kid`, else the payload's
 * `keyid`; the key's algorithm must be the token's; the scope must match `signing.scope` (or the
 * key's). Returns the signed files by name.
 */
export function verifyBundleSignature(
  signaturesJson: Buffer,
  keys: Readonly<Record<string, KeyConfig>>,
  signing: BundleSigningConfig,
): Map<string, SignedFile> {
  let doc: unknown;
  try {
    doc = JSON.parse(signaturesJson.toString('utf8'));
  } catch {
    throw new BundleError('bundle load failed on signatures decode: .signatures.json is not JSON');
  }
  const tokens = (doc as { signatures?: unknown }).signatures;
  if (!Array.isArray(tokens) || tokens.length === 0) throw new BundleError('.signatures.json: missing JWT (expected exactly one)');
  if (tokens.length > 1) throw new BundleError('.signatures.json: multiple JWTs not supported (expected exactly one)');
  const token = tokens[0];
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new BundleError('.signatures.json: the signature is not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h, 'headers');
  const payload = decodePart(p, 'payload') as SignaturePayload;

  const keyId = signing.keyid || (typeof header['kid'] === 'string' ? header['kid'] : '') || (typeof payload.keyid === 'string' ? payload.keyid : '');
  if (!keyId) throw new BundleError('verification key ID is empty');
  const key = keys[keyId];
  if (!key) throw new BundleError(`verification key corresponding to ID ${keyId} not found`);
  if (header['alg'] !== key.algorithm) {
    throw new BundleError(`failed to verify JWS signature: the token's algorithm ${JSON.stringify(header['alg'])} is not the key's (${key.algorithm})`);
  }
  if (!verifyJws(key.algorithm, key.key, `${h}.${p}`, Buffer.from(s, 'base64url'))) {
    throw new BundleError('failed to verify JWS signature: the signature does not match');
  }
  const scope = signing.scope || key.scope || '';
  if ((typeof payload.scope === 'string' ? payload.scope : '') !== scope) throw new BundleError('scope mismatch');

  const files = new Map<string, SignedFile>();
  if (!Array.isArray(payload.files)) throw new BundleError('the bundle signature lists no files');
  for (const f of payload.files as unknown[]) {
    const { name, hash, algorithm } = (f ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof hash !== 'string') throw new BundleError('the bundle signature has a malformed files entry');
    files.set(name.replace(/^\/+/, ''), { name, hash, algorithm: typeof algorithm === 'string' ? algorithm : '' });
  }
  return files;
}

/** A glob of `signing.exclude_files` (OPA: filepath.Match): `*` and `?` stop at "/". */
function globMatch(pattern: string, path: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(path);
}

/**
 * Checks every file of the bundle against the signed list: each file (but excluded ones) must be
 * listed with a matching digest, and every listed file must be present (OPA refuses both).
 */
export function verifyBundleFiles(files: BundleFiles, signed: Map<string, SignedFile>, exclude: readonly string[]): void {
  const pending = new Map(signed);
  for (const [path, content] of files) {
    if (path === SIGNATURES_FILE) continue;
    if (exclude.some((g) => globMatch(g, path))) {
      pending.delete(path);
      continue;
    }
    const entry = pending.get(path);
    if (!entry) throw new BundleError(`file ${path} not included in bundle signature`);
    if (!entry.algorithm) throw new BundleError(`no hashing algorithm provided for file ${path}`);
    if (!isHashingAlgorithm(entry.algorithm)) throw new BundleError(`unsupported hashing algorithm: ${entry.algorithm}`);
    const actual = hashBundleFile(path, content, entry.algorithm);
    if (actual !== entry.hash.toLowerCase()) throw new BundleError(`${path}: digest mismatch (want: ${entry.hash}, got: ${actual})`);
    pending.delete(path);
  }
  if (pending.size > 0) {
    throw new BundleError(`file(s) [${[...pending.keys()].sort().join(' ')}] specified in bundle signatures but not found in the target bundle`);
  }
}

export interface SigningKey {
  readonly algorithm: SigningAlgorithm;
  /** PEM private key for RS/PS/ES, the shared secret for HS. */
  readonly key: string;
  readonly keyid?: string;
  readonly scope?: string;
}

/** Signs a bundle as `opa sign` does: one JWT listing every file's SHA-256; returns `.signatures.json`'s content. */
export function signBundle(files: ReadonlyMap<string, Buffer>, signer: SigningKey): Buffer {
  const list: SignedFile[] = [...files.keys()]
    .filter((p) => p !== SIGNATURES_FILE)
    .sort()
    .map((name) => ({ name, hash: hashBundleFile(name, files.get(name)!), algorithm: 'SHA-256' }));
  const header = { alg: signer.algorithm, ...(signer.keyid ? { kid: signer.keyid } : {}) };
  const payload = { files: list, ...(signer.scope ? { scope: signer.scope } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const alg = signer.algorithm;
  let sig: Buffer;
  if (alg.startsWith('HS')) sig = createHmac(digestOf(alg), signer.key).update(input).digest();
  else {
    const key = createPrivateKey(signer.key);
    if (alg.startsWith('RS')) sig = sign(digestOf(alg), Buffer.from(input), { key, padding: constants.RSA_PKCS1_PADDING });
    else if (alg.startsWith('PS')) sig = sign(digestOf(alg), Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    else sig = sign(digestOf(alg), Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  }
  return Buffer.from(`${JSON.stringify({ signatures: [`${input}.${b64url(sig)}`] }, null, 1)}\n`);
}
