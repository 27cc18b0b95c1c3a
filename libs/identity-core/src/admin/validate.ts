import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { HttpProblem } from '@cloud-stack/service-kit';
import { IdentityError, type IdentityErrorCode } from '../errors';

/** Parses a JSON body; a mismatch is a 400 problem naming the first bad field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new HttpProblem(400, `invalid request body: ${where}${issue?.message ?? 'bad value'}`);
  }
  return result.data;
}

const STATUS: Record<IdentityErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  email_domain_not_allowed: 422,
  forbidden: 403,
  invalid: 400,
};

/** Turns domain errors into problem+json for the shared error handler. */
export const identityErrors: ErrorRequestHandler = (err, _req, _res, next) => {
  if (err instanceof IdentityError) {
    next(
      new HttpProblem(STATUS[err.code], err.message, {
        ...(err.code === 'email_domain_not_allowed' ? { type: 'https://cloud-stack.dev/problems/email-domain-not-allowed', title: 'E-mail domain not allowed' } : {}),
      }),
    );
    return;
  }
  next(err);
};
