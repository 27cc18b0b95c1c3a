import type { Response } from 'express';

/** RFC 6749 §5.2 error codes, plus RFC 7009's unsupported_token_type. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    /** Set when the client tried HTTP Basic: the answer is 401 with WWW-Authenticate. */
    readonly basicChallenge = false,
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  get status(): number {
    return this.code === 'invalid_client' ? 401 : 400;
  }
}

export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

/** Writes the RFC 6749 §5.2 JSON error body. */
export function sendOAuthError(res: Response, err: OAuthError): void {
  noStore(res);
  if (err.basicChallenge) res.setHeader('WWW-Authenticate', 'Basic realm="cloud-stack", charset="UTF-8"');
  res.status(err.status).json({ error: err.code, error_description: err.description });
}
