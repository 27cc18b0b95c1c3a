import { hash } from 'node:crypto';

/**
 * SHA-256 of a token as lowercase hex: the cache key (the token itself is never kept) and the
 * `token_sha256` identity puts in its revocation messages, computed the same way.
 */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'hex');
}
