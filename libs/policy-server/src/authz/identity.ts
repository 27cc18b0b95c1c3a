import type { IncomingHttpHeaders } from 'node:http';

// OPA's identifier.TokenBased: one Bearer token, no whitespace inside, headers over 8 KiB ignored.
const BEARER = /^Bearer\s+(\S+)$/;
const MAX_HEADER = 8192;

/** The request's identity under POLICY_AUTHENTICATION=token: the Bearer token, or undefined. */
export function bearerIdentity(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (!value || value.length > MAX_HEADER) return undefined;
  return BEARER.exec(value)?.[1];
}
