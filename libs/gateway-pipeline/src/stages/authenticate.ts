import { bearerToken, IdentityUnavailableError, type IdentityClient } from '@cloud-stack/identity-client';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { Stage } from '../stage';
import type { Subject } from '../context';

export type AuthenticationErrorCode = 'unauthenticated' | 'invalid_token' | 'identity_unavailable';

/** A refused authentication: the problem to answer, and the code the audit trail records. */
export class AuthenticationError extends HttpProblem {
  constructor(
    readonly code: AuthenticationErrorCode,
    status: 401 | 503,
    detail: string,
    headers: Record<string, string>,
  ) {
    super(status, detail, { headers });
  }
}

const RETRY_AFTER_SECONDS = '5';

type Answer = Awaited<ReturnType<IdentityClient['introspect']>>;

/**
 * One subject per introspection answer: a cached answer is the same object on every hit, so its
 * subject is too, and the decision cache can key on it without serialising it.
 */
const subjects = new WeakMap<Answer, Subject>();

/**
 * The subject of a request's `Authorization` header, by introspection at identity (cached and
 * revocation-aware in the identity client); undefined when the header is absent. A token that is
 * presented must be active. Identity down is a 503: nothing is ever let through unauthenticated.
 */
export async function subjectOf(identity: Pick<IdentityClient, 'introspect'>, authorization: string | undefined): Promise<Subject | undefined> {
  if (authorization === undefined) return undefined;
  const token = bearerToken(authorization);
  if (token === undefined) {
    throw new AuthenticationError('invalid_token', 401, 'the Authorization header is not a bearer token', { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
  }
  let answer;
  try {
    answer = await identity.introspect(token);
  } catch (err) {
    if (!(err instanceof IdentityUnavailableError)) throw err;
    throw new AuthenticationError('identity_unavailable', 503, 'the identity service cannot be reached; try again later', { 'Retry-After': RETRY_AFTER_SECONDS });
  }
  // Identity introspects refresh tokens too (token_type `refresh_token`): they are no bearer credential.
  if (!answer.active || !answer.sub || (answer.token_type !== undefined && answer.token_type.toLowerCase() !== 'bearer')) {
    throw new AuthenticationError('invalid_token', 401, 'the token is not active', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
  let subject = subjects.get(answer);
  if (subject === undefined) {
    subject = {
      authenticated: true,
      sub: answer.sub,
      tenant_id: answer.tenant_id ?? null,
      client_id: answer.client_id ?? null,
      roles: [...(answer.roles ?? [])],
      is_governor: answer.is_governor === true,
      trial_mode: answer.trial_mode === true,
      agent_id: answer.agent_id ?? null,
    };
    // Shared by every request with this token: nothing may change it.
    Object.freeze(subject.roles);
    Object.freeze(subject);
    subjects.set(answer, subject);
  }
  return subject;
}

/** Raised when a route (or the admin API) needs a token and none came. */
export function tokenRequired(): AuthenticationError {
  return new AuthenticationError('unauthenticated', 401, 'this route requires a bearer token', { 'WWW-Authenticate': 'Bearer' });
}

/** Bearer token → subject. A route with a permission needs a token; a public route takes one if given. */
export function authenticateStage(deps: { readonly identity: Pick<IdentityClient, 'introspect'> }): Stage {
  return {
    id: 'auth',
    build(route) {
      const required = route.permission !== '';
      return async (ctx) => {
        try {
          const subject = await subjectOf(deps.identity, ctx.req.headers.authorization);
          if (subject) ctx.subject = subject;
          else if (required) throw tokenRequired();
        } catch (err) {
          if (err instanceof AuthenticationError) ctx.errorCode = err.code;
          throw err;
        }
      };
    },
  };
}
