import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { PolicyServerConfig } from '../config';
import { engineErrorDetails, isEngineError, MSG_EVAL_ERROR, OpaHttpError } from '../opa/errors';
import type { PolicyStore } from '../store/policy-store';
import { bearerIdentity } from './identity';

const DECISION = ['system', 'authz', 'allow'];
// OPA's server/types messages for the authorizer's answers.
const MSG_UNAUTHORIZED = 'request rejected by administrative policy';
const MSG_AUTHZ_UNDEFINED = 'authorization policy missing or undefined';
const MSG_UNDEFINED = 'document missing or undefined';

/** The parts of a request system.authz sees; `body` for POST /v1/data (as OPA) and POST /v1/compile (its query). */
export interface AuthzRequest {
  readonly req: IncomingMessage;
  /** The URL path without the query string. */
  readonly pathname: string;
  /** The parsed query string (values as node:querystring gives them). */
  readonly query: Readonly<Record<string, unknown>>;
  readonly body?: unknown;
}

/** Decides one API call; throws the OpaHttpError to answer when it is not allowed. */
export type Authorizer = (request: AuthzRequest) => void;

/** Go's textproto.CanonicalMIMEHeaderKey: `content-type` → `Content-Type`, as OPA's input.headers keys. */
function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function headerInput(headers: IncomingHttpHeaders): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Go's server moves Host out of the header map (to Request.Host), so OPA's input lacks it.
    if (value === undefined || name === 'host') continue;
    out[canonicalHeader(name)] = Array.isArray(value) ? value : [value];
  }
  return out;
}

function paramInput(query: Readonly<Record<string, unknown>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(query)) out[name] = (Array.isArray(value) ? value : [value]).map(String);
  return out;
}

/** `/v1/data/a%2Fb` → ['v1', 'data', 'a/b'] (OPA's input.path); a bad escape is a 400. */
function pathInput(pathname: string): string[] {
  return pathname
    .slice(1)
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw OpaHttpError.badRequest(`invalid URL escape ${JSON.stringify(s)}`);
      }
    });
}

/** Reads the authorizer's verdict as OPA's authorizer.Basic does. */
function verdict(result: unknown): void {
  if (result === true) return;
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    const r = result as { allowed?: unknown; reason?: unknown };
    if (!('allowed' in r)) throw OpaHttpError.internal(MSG_UNDEFINED);
    if (r.allowed === true) return;
    if (typeof r.reason === 'string') throw new OpaHttpError(401, 'unauthorized', r.reason);
  }
  throw new OpaHttpError(401, 'unauthorized', MSG_UNAUTHORIZED);
}

/**
 * OPA's `--authorization=basic` over the serving policy set: `data.system.authz.allow` decides
 * every API call, with the request's method, path, params, headers, identity (the Bearer token
 * under POLICY_AUTHENTICATION=token) and, for POST /v1/data and POST /v1/compile, its body. Undefined when
 * authorization is off, so callers pay one check.
 */
export function createAuthorizer(
  config: Pick<PolicyServerConfig, 'POLICY_AUTHENTICATION' | 'POLICY_AUTHORIZATION' | 'EVAL_TIMEOUT_MS' | 'EVAL_MAX_STEPS'>,
  store: PolicyStore,
): Authorizer | undefined {
  if (config.POLICY_AUTHORIZATION !== 'basic') return undefined;
  const tokens = config.POLICY_AUTHENTICATION === 'token';
  const limits = { timeoutMs: config.EVAL_TIMEOUT_MS, ...(config.EVAL_MAX_STEPS > 0 ? { maxSteps: config.EVAL_MAX_STEPS } : {}) };
  return ({ req, pathname, query, body }) => {
    const input: Record<string, unknown> = {
      path: pathInput(pathname),
      method: (req.method ?? 'GET').toUpperCase(),
      params: paramInput(query),
      headers: headerInput(req.headers),
    };
    if (body !== undefined) input.body = body;
    const identity = tokens ? bearerIdentity(req.headers) : undefined;
    if (identity !== undefined) input.identity = identity;
    const snapshot = store.current();
    let outcome;
    try {
      outcome = snapshot.set.evaluate(DECISION, { ...limits, input, data: snapshot.data });
    } catch (err) {
      if (!isEngineError(err)) throw err;
      throw OpaHttpError.internal(MSG_EVAL_ERROR, engineErrorDetails(err));
    }
    if (!outcome.defined) throw OpaHttpError.internal(MSG_AUTHZ_UNDEFINED);
    verdict(outcome.result);
  };
}
