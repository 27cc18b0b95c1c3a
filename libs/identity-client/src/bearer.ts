// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, the scheme case-insensitive (RFC 9110 §11.1).
// One space only: a sloppy header is refused rather than guessed at.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of an `Authorization: Bearer <b64token>` header; undefined for anything else. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}
