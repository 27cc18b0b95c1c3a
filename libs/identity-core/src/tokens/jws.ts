import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * Compact ES256 JWS on node:crypto directly: a token is signed and checked with one native call
 * each, without a JWT library's per-call option validation. Signatures are raw r||s (RFC 7518
 * §3.4), hence `ieee-p1363`.
 */
export function signEs256(encodedHeader: string, payload: object, key: KeyObject): string {
  const input = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** `{alg, typ, kid}` as the first part of a token. */
export function encodeHeader(header: Readonly<Record<string, string>>): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url');
}

const SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/;

/** The payload of a compact ES256 JWS whose signature `key` verifies; undefined for anything else. */
export function verifyEs256(token: string, key: KeyObject): Record<string, unknown> | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  // 64 bytes are 86 base64url characters; Buffer would skip stray characters, so check the text.
  const encoded = token.slice(second + 1);
  if (!SIGNATURE.test(encoded)) return undefined;
  const signature = Buffer.from(encoded, 'base64url');
  try {
    if (!verify('sha256', Buffer.from(token.slice(0, second)), { key, dsaEncoding: 'ieee-p1363' }, signature)) return undefined;
    const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
