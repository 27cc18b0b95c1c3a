export type IdentityErrorCode = 'not_found' | 'conflict' | 'email_domain_not_allowed' | 'forbidden' | 'invalid';

/** A domain rule was broken; the admin API turns `code` into the matching problem+json. */
export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === '23505';
}
