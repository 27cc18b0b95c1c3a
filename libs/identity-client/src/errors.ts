/** Why identity could not give an answer: callers answer 503 whatever the code, never 401. */
export type IdentityUnavailableCode = 'timeout' | 'network' | 'http_status' | 'malformed_answer';

/** Identity could not be asked, or answered something that is not RFC 7662. */
export class IdentityUnavailableError extends Error {
  constructor(
    readonly code: IdentityUnavailableCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IdentityUnavailableError';
  }
}
