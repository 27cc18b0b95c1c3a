import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { sql, type Kysely } from '@cloud-stack/db';

/** Signs digests with Ed25519; `keyId` names the key so old digests stay verifiable after rotation. */
export interface DigestSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(message: Buffer): string;
}

export interface PublishedKey {
  readonly key_id: string;
  readonly algorithm: 'Ed25519';
  readonly public_key_pem: string;
  readonly source: 'env' | 'dev-generated';
  readonly created_at: string;
}

interface Warner {
  warn(obj: object, msg: string): void;
}

/** The key id of a public key: the first 16 bytes of SHA-256 over its SPKI DER, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

/** Parses AUDIT_SIGNING_KEY: a PKCS#8 PEM, or the same PEM base64-encoded, or base64 PKCS#8 DER. */
export function parseSigningKey(value: string): KeyObject {
  const text = value.trim();
  let key: KeyObject;
  if (text.includes('-----BEGIN')) key = createPrivateKey(text);
  else {
    const raw = Buffer.from(text, 'base64');
    const decoded = raw.toString('utf8');
    key = decoded.includes('-----BEGIN') ? createPrivateKey(decoded) : createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`AUDIT_SIGNING_KEY must be an Ed25519 private key, got ${key.asymmetricKeyType}`);
  return key;
}

function signerFor(privateKey: KeyObject): DigestSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => sign(null, message, privateKey).toString('base64'),
  };
}

/**
 * The digest signer. With `signingKey` (AUDIT_SIGNING_KEY) its public half is published in
 * `audit_signing_keys`; without one, a development key is generated once, stored (private half
 * included) in that table and reused by every replica, with a warning: such a key proves nothing
 * against whoever can read the database.
 */
export async function loadDigestSigner(db: Kysely<unknown>, options: { signingKey?: string; logger?: Warner } = {}): Promise<DigestSigner> {
  if (options.signingKey) {
    const signer = signerFor(parseSigningKey(options.signingKey));
    await sql`INSERT INTO audit_signing_keys (key_id, public_key_pem, source) VALUES (${signer.keyId}, ${signer.publicKeyPem}, 'env')
      ON CONFLICT (key_id) DO NOTHING`.execute(db);
    return signer;
  }
  const fresh = generateKeyPairSync('ed25519');
  const pem = fresh.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const candidate = signerFor(fresh.privateKey);
  // Replicas starting together race here; the partial unique index keeps exactly one dev key.
  await sql`INSERT INTO audit_signing_keys (key_id, public_key_pem, private_key_pem, source)
    VALUES (${candidate.keyId}, ${candidate.publicKeyPem}, ${pem}, 'dev-generated') ON CONFLICT DO NOTHING`.execute(db);
  const { rows } = await sql<{ private_key_pem: string }>`SELECT private_key_pem FROM audit_signing_keys WHERE source = 'dev-generated'`.execute(db);
  const stored = rows[0];
  if (!stored) throw new Error('development signing key missing after insert');
  options.logger?.warn({}, 'AUDIT_SIGNING_KEY is not set: digests are signed with a generated development key stored in the database');
  return signerFor(createPrivateKey(stored.private_key_pem));
}

/** Every key that ever signed a digest, public halves only. */
export async function listPublicKeys(db: Kysely<unknown>): Promise<PublishedKey[]> {
  const { rows } = await sql<PublishedKey>`SELECT key_id, 'Ed25519' AS algorithm, public_key_pem, source,
      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
    FROM audit_signing_keys ORDER BY created_at, key_id`.execute(db);
  return rows;
}

/** Checks an Ed25519 signature (base64) of `message` against a PEM public key; false on any malformed input. */
export function verifySignature(publicKeyPem: string, message: Buffer, signature: string): boolean {
  try {
    return verify(null, message, createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
