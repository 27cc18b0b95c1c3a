import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyInput, PolicyResult } from '@cloud-stack/contracts';
import type { Route } from '@cloud-stack/gateway-routing';
import type { Correlation } from './request/correlation';

export type Subject = PolicyInput['subject'];
export type BudgetState = NonNullable<PolicyInput['budget']>;

/** The decision a request got, as recorded in the audit trail. */
export interface DecisionRecord {
  readonly allow: boolean;
  readonly reasons: readonly string[];
  readonly policy: string | null;
  readonly decision_id: string | null;
  /** `degraded`: the policy could not be asked and the route is fail-open. */
  readonly enforcement: 'enforced' | 'degraded' | 'cached';
}

/**
 * One request's state as it walks its route's stages. Stages fill in what they learn; the audit
 * stage reads it when the response is being ended (or the connection closed first).
 */
export interface GatewayContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: bigint;
  readonly receivedAt: number;
  readonly correlation: Correlation;
  readonly route: Route;
  readonly routeVersion: number;
  readonly params: Readonly<Record<string, string>>;
  /** The request path as matched and as forwarded (canonical, decoded once). */
  readonly path: string;
  /** The query string with its leading `?`, or "" (forwarded as received). */
  readonly query: string;
  readonly host: string;
  readonly ip: string | null;
  subject: Subject;
  budget: BudgetState | null;
  decision: DecisionRecord | null;
  /** The policy obliged the sandbox upstream. */
  sandbox: boolean;
  /** Cost charged to the agent's budget for this request (refunded when the upstream fails). */
  charged: number;
  /** What the gateway refused or failed with, for the audit trail (`policy_violation`, `rate_limited`, …). */
  errorCode: string | null;
  /** The upstream URL the request went to, if it was proxied. */
  upstream: string | null;
  /** The status answered on the raw socket rather than through `res` (WebSocket upgrades). */
  socketStatus: number | null;
}

export const ANONYMOUS: Subject = Object.freeze({
  authenticated: false,
  sub: null,
  tenant_id: null,
  client_id: null,
  roles: [],
  is_governor: false,
  trial_mode: false,
  agent_id: null,
});

/** What the handler knows of a request before any stage runs. */
export type RequestFacts = Pick<GatewayContext, 'req' | 'res' | 'startedAt' | 'receivedAt' | 'correlation' | 'route' | 'routeVersion' | 'params' | 'path' | 'query' | 'host' | 'ip'>;

/** A request's context before its stages: anonymous, nothing decided, charged or sent yet. */
export function requestContext(facts: RequestFacts): GatewayContext {
  // Written out, not spread: one object shape for every request, on the hot path.
  const { req, res, startedAt, receivedAt, correlation, route, routeVersion, params, path, query, host, ip } = facts;
  return {
    req,
    res,
    startedAt,
    receivedAt,
    correlation,
    route,
    routeVersion,
    params,
    path,
    query,
    host,
    ip,
    subject: ANONYMOUS,
    budget: null,
    decision: null,
    sandbox: false,
    charged: 0,
    errorCode: null,
    upstream: null,
    socketStatus: null,
  };
}

export type { PolicyResult };
