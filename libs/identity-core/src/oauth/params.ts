import type { Request } from 'express';
import { OAuthError } from './errors';

/** The request's form fields (every value a single string, empty ones kept); see `formFields`. */
export function formBody(req: Request): Record<string, string> {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'the request body must be application/x-www-form-urlencoded');
  }
  return formFields(req.body ?? {});
}

/**
 * Checks parsed form fields. OAuth requests are application/x-www-form-urlencoded
 * (RFC 6749 §3.2), and no parameter may appear twice.
 */
export function formFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `parameter ${name} is repeated or malformed`);
    out[name] = value;
  }
  return out;
}

/** The parameters that have a value: an empty one counts as omitted (RFC 6749 §3.1). */
export function nonEmpty(fields: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in fields) if (fields[name] !== '') out[name] = fields[name]!;
  return out;
}

/** The request's non-empty form parameters. */
export function formParams(req: Request): Record<string, string> {
  return nonEmpty(formBody(req));
}

export function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined) throw new OAuthError('invalid_request', `missing parameter ${name}`);
  return value;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The granted scope: the requested one when it is within `allowed`, else all of `allowed`. */
export function resolveScope(requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return allowed.join(' ');
  const wanted = requested.split(' ').filter(Boolean);
  for (const s of wanted) {
    if (!SCOPE_TOKEN.test(s)) throw new OAuthError('invalid_scope', 'malformed scope');
    if (!allowed.includes(s)) throw new OAuthError('invalid_scope', `scope ${s} is not allowed for this client`);
  }
  return [...new Set(wanted)].join(' ');
}
