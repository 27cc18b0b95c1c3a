/**
 * OPA v1/topdown/tokens.go: io.jwt.* built-ins on node:crypto. Keys for verification come
 * as a PEM certificate, a PEM public key, a JWK or a JWK set (as OPA accepts them);
 * HMAC secrets as plain strings.
 */
import {
  X509Certificate,
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { parseDecimal } from './decimal';
import { def, objectArg, stringArg } from './utils';
import { BigNum, RegoObject, numberToString, parseJSON, toBigInt, toDouble, toJSON, toJSONText, type Value } from '../value';

// ---- decoding ----

interface Decoded {
  readonly header: RegoObject;
  readonly payload: RegoObject;
  readonly signature: Buffer;
  readonly signingInput: string;
  readonly headerText: string;
}

/** Go's base64.RawURLEncoding (padding tolerated, as OPA strips it). */
function b64urlDecode(s: string, what: string): Buffer {
  const t = s.replace(/=+$/, '');
  for (let i = 0; i < t.length; i++) {
    if (!/[A-Za-z0-9_-]/.test(t[i]!)) throw new BuiltinError(`JWT ${what} had invalid encoding: illegal base64 data at input byte ${i}`);
  }
  if (t.length % 4 === 1) throw new BuiltinError(`JWT ${what} had invalid encoding: illegal base64 data at input byte ${t.length}`);
  return Buffer.from(t, 'base64url');
}

function b64url(b: Buffer | string): string {
  return (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64url');
}

function jsonObject(text: string, what: string): RegoObject {
  let v: Value;
  try {
    v = parseJSON(text);
  } catch {
    throw new BuiltinError(`JWT ${what} had invalid encoding: not valid JSON`);
  }
  if (!(v instanceof RegoObject)) throw new BuiltinError(`JWT ${what} had invalid encoding: not a JSON object`);
  return v;
}

function splitToken(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length === 1) throw new BuiltinError('encoded JWT had no period separators');
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return parts as [string, string, string];
}

/** Decodes one level; follows nested JWTs (cty: JWT) when `nested` is set. */
function decodeToken(token: string, nested = true): Decoded {
  const [h, p, s] = splitToken(token);
  const headerText = b64urlDecode(h, 'header').toString('utf8');
  const header = jsonObject(headerText, 'header');
  if (header.has('enc')) throw new BuiltinError('JWT is a JWE object, which is not supported');
  const payloadText = b64urlDecode(p, 'payload').toString('utf8');
  const signature = b64urlDecode(s, 'signature');
  const cty = header.get('cty');
  if (nested && typeof cty === 'string' && cty.toUpperCase() === 'JWT') {
    // The payload is the nested token, JSON-quoted or raw.
    let inner = payloadText;
    try {
      const q = JSON.parse(payloadText) as unknown;
      if (typeof q === 'string') inner = q;
    } catch {
      /* raw token */
    }
    return decodeToken(inner, nested);
  }
  // An enclosing token's payload is the nested token, not JSON; its caller unwraps it.
  const payload = typeof cty === 'string' && cty.toUpperCase() === 'JWT' ? new RegoObject() : jsonObject(payloadText, 'payload');
  return { header, payload, signature, signingInput: `${h}.${p}`, headerText };
}

// ---- keys ----

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Verification keys from a PEM certificate / public key, a JWK or a JWK set. */
function keysFrom(text: string): KeyObject[] {
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----\r?\n?/.exec(text);
  if (pem && text.trimStart().startsWith('-----BEGIN')) {
    const rest = text.slice(pem.index + pem[0].length);
    if (rest.trim().length > 0) throw new BuiltinError('extra data after a PEM certificate block');
    const type = pem[1];
    if (type === 'CERTIFICATE') {
      try {
        return [new X509Certificate(pem[0]).publicKey];
      } catch {
        throw new BuiltinError('failed to parse a PEM certificate');
      }
    }
    if (type === 'PUBLIC KEY' || type === 'RSA PUBLIC KEY') {
      try {
        return [createPublicKey(pem[0])];
      } catch {
        throw new BuiltinError('failed to parse a PEM public key');
      }
    }
    throw new BuiltinError('failed to extract a Key from the PEM certificate');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BuiltinError('failed to parse a JWK key (set)');
  }
  const jwks = (parsed as { keys?: unknown[] }).keys;
  const list = Array.isArray(jwks) ? jwks : [parsed];
  try {
    return list.map((k) => createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' }));
  } catch {
    throw new BuiltinError('failed to parse a JWK key (set)');
  }
}

function verifySig(alg: string, key: KeyObject | Buffer, input: string, sig: Buffer): boolean {
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  const data = Buffer.from(input, 'utf8');
  try {
    if (family === 'HS' && hash && Buffer.isBuffer(key)) {
      const mac = createHmac(hash, key).update(data).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    if (Buffer.isBuffer(key)) return false;
    if (family === 'RS' && hash) return cryptoVerify(hash, data, key, sig);
    if (family === 'PS' && hash) {
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
    }
    if (family === 'ES' && hash) return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    if (alg === 'EdDSA') return cryptoVerify(null, data, key, sig);
  } catch {
    return false;
  }
  return false;
}

function verifyWith(alg: string, keySource: 'secret' | 'cert') {
  return (args: readonly Value[]): boolean => {
    const token = stringArg(args, 0);
    const keyText = stringArg(args, 1);
    const [h, p, s] = splitToken(token);
    const sig = b64urlDecode(s, 'signature');
    if (keySource === 'secret') return verifySig(alg, Buffer.from(keyText, 'utf8'), `${h}.${p}`, sig);
    const header = jsonObject(b64urlDecode(h, 'header').toString('utf8'), 'header');
    // The token must say it uses this algorithm.
    if (header.get('alg') !== alg) return false;
    return keysFrom(keyText).some((k) => verifySig(alg, k, `${h}.${p}`, sig));
  };
}

// ---- decode_verify ----

/** n seconds (possibly fractional) compared to t nanoseconds, exactly. */
function compareSecondsToNs(n: Value, t: bigint, claim: string): number {
  if (typeof n !== 'number' && !(n instanceof BigNum)) throw new BuiltinError(`${claim} value must be a number`);
  const d = parseDecimal(numberToString(n))!;
  // n * 1e9 vs t: scale both to a common exponent.
  const e = d.exp + 9;
  const [a, b] = e >= 0 ? [d.mant * 10n ** BigInt(e), t] : [d.mant, t * 10n ** BigInt(-e)];
  return a < b ? -1 : a > b ? 1 : 0;
}

const CONSTRAINT_KEYS = new Set(['cert', 'secret', 'alg', 'iss', 'aud', 'time']);

function decodeVerify(args: readonly Value[], nowNs: bigint): Value {
  const token = stringArg(args, 0);
  const c = objectArg(args, 1);
  for (const k of c.keys()) {
    if (typeof k !== 'string' || !CONSTRAINT_KEYS.has(k)) throw new BuiltinError(`unknown token validation constraint: ${toJSONText(k)}`);
  }
  const cert = c.get('cert');
  const secret = c.get('secret');
  if (cert !== undefined && typeof cert !== 'string') throw new BuiltinError('cert constraint: must be a string');
  if (secret !== undefined && typeof secret !== 'string') throw new BuiltinError('secret constraint: must be a string');
  if (cert === undefined && secret === undefined) throw new BuiltinError('no key material provided');
  const timeV = c.get('time');
  let now = nowNs;
  if (timeV !== undefined) {
    if (typeof timeV === 'number') now = BigInt(Math.trunc(timeV));
    else if (timeV instanceof BigNum) now = toBigInt(timeV) ?? BigInt(Math.trunc(toDouble(timeV)));
    else throw new BuiltinError('time constraint: must be a number');
  }
  const invalid: Value = [false, new RegoObject(), new RegoObject()];
  const keys = typeof cert === 'string' ? keysFrom(cert) : [];

  // Verify the outer token, then unwrap nested tokens verifying each level.
  let current = token;
  let decoded: Decoded;
  for (;;) {
    decoded = decodeToken(current, false);
    const alg = decoded.header.get('alg');
    if (typeof alg !== 'string') return invalid;
    const want = c.get('alg');
    if (want !== undefined && want !== alg) return invalid;
    const crit = decoded.header.get('crit');
    if (crit !== undefined) return invalid;
    const sig = decoded.signature;
    const ok =
      typeof secret === 'string' && alg.startsWith('HS')
        ? verifySig(alg, Buffer.from(secret, 'utf8'), decoded.signingInput, sig)
        : keys.some((k) => verifySig(alg, k, decoded.signingInput, sig));
    if (!ok) return invalid;
    const cty = decoded.header.get('cty');
    if (typeof cty === 'string' && cty.toUpperCase() === 'JWT') {
      const p = splitToken(current)[1];
      const text = b64urlDecode(p, 'payload').toString('utf8');
      try {
        const q = JSON.parse(text) as unknown;
        current = typeof q === 'string' ? q : text;
      } catch {
        current = text;
      }
      continue;
    }
    break;
  }
  const payload = decoded.payload;
  const exp = payload.get('exp');
  if (exp !== undefined && compareSecondsToNs(exp, now, 'exp') <= 0) return invalid;
  const nbf = payload.get('nbf');
  if (nbf !== undefined && compareSecondsToNs(nbf, now, 'nbf') > 0) return invalid;
  const iss = c.get('iss');
  if (iss !== undefined && payload.get('iss') !== iss) return invalid;
  const aud = payload.get('aud');
  const wantAud = c.get('aud');
  if (aud !== undefined) {
    if (wantAud === undefined) return invalid;
    const auds = Array.isArray(aud) ? (aud as readonly Value[]) : [aud];
    if (!auds.some((a) => a === wantAud)) return invalid;
  } else if (wantAud !== undefined) return invalid;
  return [true, decoded.header, payload];
}

// ---- signing ----

function signingKey(jwk: Value, alg: string): KeyObject | Buffer {
  if (!(jwk instanceof RegoObject)) throw new BuiltinError('key must be a JWK object');
  const plain = toJSON(jwk) as Record<string, unknown>;
  if (plain['kty'] === 'oct') {
    const k = plain['k'];
    if (typeof k !== 'string') throw new BuiltinError('invalid JWK: missing "k"');
    return Buffer.from(k, 'base64url');
  }
  try {
    return createPrivateKey({ key: plain as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (e) {
    throw new BuiltinError(`failed to parse JWK for ${alg}: ${(e as Error).message}`);
  }
}

const ALGS = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

function signInput(alg: string, key: KeyObject | Buffer, input: string): Buffer {
  const data = Buffer.from(input, 'utf8');
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  if (family === 'HS') {
    if (!Buffer.isBuffer(key)) throw new BuiltinError(`invalid key for ${alg}`);
    return createHmac(hash!, key).update(data).digest();
  }
  if (Buffer.isBuffer(key)) throw new BuiltinError(`invalid key for ${alg}`);
  if (family === 'RS') return cryptoSign(hash!, data, key);
  if (family === 'PS') return cryptoSign(hash!, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (family === 'ES') return cryptoSign(hash!, data, { key, dsaEncoding: 'ieee-p1363' });
  return cryptoSign(null, data, key);
}

function encodeSign(headerText: string, payloadText: string, header: RegoObject, key: Value): string {
  const alg = header.get('alg');
  if (typeof alg !== 'string') throw new BuiltinError(`missing or invalid 'alg' header`);
  if (!ALGS.has(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  const input = `${b64url(headerText)}.${b64url(payloadText)}`;
  return `${input}.${b64url(signInput(alg, signingKey(key, alg), input))}`;
}

function headerForRaw(text: string): RegoObject {
  if (text === '') throw new BuiltinError(`missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string`);
  let v: Value;
  try {
    v = parseJSON(text);
  } catch {
    if (text.trimStart().startsWith('{')) throw new BuiltinError(`missing or invalid 'alg' header: cannot parse JSON`);
    throw new BuiltinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  }
  if (!(v instanceof RegoObject) || !v.has('alg')) throw new BuiltinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  return v;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'io.jwt.decode', 1, (args) => {
    const d = decodeToken(stringArg(args, 0));
    return [d.header, d.payload, d.signature.toString('hex')];
  });
  def(r, 'io.jwt.decode_verify', 2, (args, ctx) => decodeVerify(args, ctx.timeNs));
  for (const bitsLen of ['256', '384', '512']) {
    def(r, `io.jwt.verify_hs${bitsLen}`, 2, verifyWith(`HS${bitsLen}`, 'secret'));
    for (const fam of ['rs', 'ps', 'es']) {
      def(r, `io.jwt.verify_${fam}${bitsLen}`, 2, verifyWith(`${fam.toUpperCase()}${bitsLen}`, 'cert'));
    }
  }
  def(r, 'io.jwt.verify_eddsa', 2, verifyWith('EdDSA', 'cert'));
  def(r, 'io.jwt.encode_sign', 3, (args) => {
    const header = objectArg(args, 0);
    const payload = objectArg(args, 1);
    return encodeSign(toJSONText(header), toJSONText(payload), header, args[2]!);
  });
  def(r, 'io.jwt.encode_sign_raw', 3, (args) => {
    const headerText = stringArg(args, 0);
    const payloadText = stringArg(args, 1);
    const keyText = stringArg(args, 2);
    const header = headerForRaw(headerText);
    const alg = header.get('alg');
    if (typeof alg === 'string' && !ALGS.has(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
    const typ = header.get('typ');
    if (typ === 'JWT') {
      try {
        JSON.parse(payloadText);
      } catch {
        throw new BuiltinError('type is JWT but payload is not JSON');
      }
    }
    let key: Value;
    try {
      key = parseJSON(keyText);
    } catch {
      throw new BuiltinError('failed to parse JWK');
    }
    return encodeSign(headerText, payloadText, header, key);
  });
}
