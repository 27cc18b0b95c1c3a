import type { PolicyInput } from '@cloud-stack/contracts';
import type { Service, ServiceName } from './stack';

/**
 * What a request came to: `ok` (a 2xx that carries the answer the check should give, or the
 * refusal a working check gives), `degraded` (a fail-open route's 200 marked
 * `X-Policy-Enforcement: degraded`), `problem` (a clean problem+json: 503 with Retry-After, a
 * dependency is down; through the gateway while an upstream is down or slow, also 502 or 504),
 * `down` (the socket of a service the suite has killed), `bad` (anything else: a hang, another
 * error, a 2xx without the answer or where the check refuses, an error from a service that is up).
 */
export type Outcome = 'ok' | 'degraded' | 'problem' | 'down' | 'bad';

export interface Sample {
  readonly probe: string;
  readonly startedAt: number;
  /** How long the request took to its answer (or failure). */
  readonly ms: number;
  readonly outcome: Outcome;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** Through the gateway: the X-Correlation-ID sent, the one its audit event carries. */
  readonly correlationId?: string;
  readonly detail?: string;
}

export interface Probe {
  readonly name: string;
  readonly service: ServiceName;
  request(): { path: string; init: RequestInit };
  /** Whether a 2xx body is the answer a working check gives (not a 200 that skipped it). */
  answered(body: unknown): boolean;
  /** The refusal (status) a working check gives this request; a 2xx instead means a check was skipped. */
  readonly refusal?: number;
  /** A route with `failure: { policy: 'open' }`: a 200 marked degraded is allowed. */
  readonly failOpen?: boolean;
  /** Sent through the gateway, with a correlation id of its own (each answered one is audited once). */
  readonly gateway?: boolean;
}

/** Longer than this is a hang: a dependency being down must be answered, not waited out. */
export const HANG_MS = 10_000;

const form = (body: Record<string, string>, basic?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}) },
  body: new URLSearchParams(body),
});

export interface Credentials {
  /** A customer's access token (introspected by the gateway client). */
  readonly customerToken: string;
  /** A tenant admin's access token (reads the audit API). */
  readonly adminToken: string;
  /** A platform viewer's access token: `agent:read`, not `route:admin` (sent through the gateway). */
  readonly viewerToken: string;
}

/**
 * How long the gateway reuses an introspection answer and a policy decision in the suite
 * (INTROSPECTION_CACHE_SECONDS, POLICY_CACHE_TTL_MS): past this with identity or the policy down,
 * a 200 would be a request that skipped the check.
 */
export const GATEWAY_CACHE_MS = 1000;

/** The routes' timeout_ms: a slower upstream is answered 504 within it. */
export const ROUTE_TIMEOUT_MS = 1000;

/** The gateway's routes for the suite, in front of `upstream` (applied with `gateway apply`). */
export function gatewayRoutes(upstream: string) {
  return {
    products: [
      {
        name: 'chaos',
        upstream,
        routes: [
          { id: 'chaos.read', path: '/chaos/read', methods: ['GET'], permission: 'agent:read', timeout_ms: ROUTE_TIMEOUT_MS },
          { id: 'chaos.open', path: '/chaos/open', methods: ['GET'], permission: 'agent:read', timeout_ms: ROUTE_TIMEOUT_MS, failure: { policy: 'open' } },
          { id: 'chaos.admin', path: '/chaos/admin', methods: ['GET'], permission: 'route:admin', timeout_ms: ROUTE_TIMEOUT_MS },
        ],
      },
    ],
  };
}

export const GATEWAY_BASIC = 'gateway:demo-gateway-secret-change-me';

function decisionInput(): PolicyInput {
  return {
    request: { method: 'GET', host: 'api.acme.example', path: '/v1/orders' },
    route: { id: 'orders-read', params: {}, permission: 'orders:read', requires_governor: false, cost: 1 },
    subject: {
      authenticated: true,
      sub: 'chaos-user',
      tenant_id: 'acme',
      client_id: 'console',
      roles: ['admin'],
      is_governor: false,
      trial_mode: false,
      agent_id: null,
    },
    budget: { monthly_spend: 1, cap: 100 },
  };
}

/** The steady traffic: each probe touches a service's own dependencies (database, Redis, identity). */
export function probes(creds: Credentials): Probe[] {
  return [
    {
      name: 'identity: password grant',
      service: 'identity',
      request: () => ({ path: '/oauth/token', init: form({ grant_type: 'password', client_id: 'console', username: 'customer@acme.example', password: 'demo-customer-pass' }) }),
      answered: (b) => typeof (b as { access_token?: unknown }).access_token === 'string',
    },
    {
      name: 'identity: introspection',
      service: 'identity',
      request: () => ({ path: '/oauth/introspect', init: form({ token: creds.customerToken }, GATEWAY_BASIC) }),
      answered: (b) => (b as { active?: unknown }).active === true,
    },
    {
      name: 'policy-sidecar: decision',
      service: 'policy-sidecar',
      request: () => ({ path: '/v1/data/gateway/authz/decision', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: decisionInput() }) } }),
      answered: (b) => typeof (b as { result?: { allow?: unknown } }).result?.allow === 'boolean',
    },
    {
      name: 'audit-writer: audit API',
      service: 'audit-writer',
      request: () => ({ path: '/v1/audit/events?limit=5', init: { headers: { authorization: `Bearer ${creds.adminToken}` } } }),
      answered: (b) => Array.isArray((b as { items?: unknown }).items),
    },
    ...gatewayProbes(creds.viewerToken),
  ];
}

/** The echo upstream's answer, when the gateway authenticated the caller before forwarding. */
const forwardedAuthenticated = (b: unknown) => typeof (b as { headers?: Record<string, unknown> }).headers?.['x-user-id'] === 'string';

function gatewayProbes(token: string): Probe[] {
  const get = (path: string) => () => ({ path, init: { headers: { authorization: `Bearer ${token}` } } });
  return [
    { name: 'gateway: fail-closed route', service: 'gateway', gateway: true, request: get('/chaos/read'), answered: forwardedAuthenticated },
    { name: 'gateway: fail-open route', service: 'gateway', gateway: true, failOpen: true, request: get('/chaos/open'), answered: forwardedAuthenticated },
    // The policy refuses this one: a 200 would be a request that skipped the check.
    { name: 'gateway: denied route', service: 'gateway', gateway: true, refusal: 403, request: get('/chaos/admin'), answered: () => false },
  ];
}

const isProblem = (res: Response) => (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
const hasRetryAfter = (res: Response) => /^\d+$/.test(res.headers.get('retry-after') ?? '');

/** Each probe in its own loop, one request at a time, until stopped. */
export class Traffic {
  readonly samples: Sample[] = [];
  /** Set while an upstream fault lasts: the gateway's 502 and 504 are then clean answers. */
  upstreamFault = false;
  private running = false;
  private loops: Promise<void>[] = [];
  private sequence = 0;
  private answerWaiters: Array<{ readonly service: ServiceName; readonly answered: () => void }> = [];

  constructor(
    private readonly all: readonly Probe[],
    private readonly services: Readonly<Record<ServiceName, Service>>,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.all.map(async (probe) => {
      while (this.running) {
        const sample = await this.once(probe);
        this.samples.push(sample);
        if (sample.status !== undefined) this.heardFrom(probe.service);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves the moment a client next has a whole answer from `service` (its body read). */
  nextAnswer(service: ServiceName): Promise<void> {
    return new Promise((answered) => this.answerWaiters.push({ service, answered }));
  }

  private heardFrom(service: ServiceName): void {
    const waiting = this.answerWaiters;
    this.answerWaiters = waiting.filter((w) => w.service !== service);
    for (const w of waiting) if (w.service === service) w.answered();
  }

  /** Whether every probe has succeeded with a request started at or after `since`. */
  allOkSince(since: number): boolean {
    return this.all.every((p) => this.samples.some((s) => s.probe === p.name && s.startedAt >= since && s.outcome === 'ok'));
  }

  between(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.startedAt >= from && s.startedAt < to);
  }

  private async once(probe: Probe): Promise<Sample> {
    const service = this.services[probe.service];
    const startedAt = Date.now();
    const { path, init } = probe.request();
    const correlationId = probe.gateway ? `chaos-gw.${process.pid}.${++this.sequence}` : undefined;
    const headers = { ...(init.headers as Record<string, string> | undefined), ...(correlationId ? { 'x-correlation-id': correlationId } : {}) };
    const sample = (outcome: Outcome, status?: number, detail?: string): Sample => ({
      probe: probe.name,
      startedAt,
      ms: Date.now() - startedAt,
      outcome,
      ...(status === undefined ? {} : { status }),
      ...(correlationId ? { correlationId } : {}),
      ...(detail ? { detail } : {}),
    });
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${service.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(HANG_MS) });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') return sample('bad', undefined, `no answer within ${HANG_MS} ms`);
      if (service.down || service.lastKilledAt >= startedAt) return sample('down');
      return sample('bad', undefined, `${e.cause?.code ?? e.message} from a service that is up`);
    }
    const status = res.status;
    const describe = () => `${status} ${(res.headers.get('content-type') ?? '').split(';')[0]}${status === 503 ? ` retry-after=${res.headers.get('retry-after')}` : ''}: ${text.slice(0, 160)}`;
    if (res.ok) {
      if (probe.refusal !== undefined) return sample('bad', status, `${status} where the check refuses (${probe.refusal}): a check was skipped`);
      if (res.headers.get('x-policy-enforcement') === 'degraded') {
        return probe.failOpen ? sample('degraded', status) : sample('bad', status, `${status} marked degraded on a fail-closed route`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return sample('bad', status, `${status} with a body that is not JSON`);
      }
      return probe.answered(body) ? sample('ok', status) : sample('bad', status, `${status} without the answer: ${text.slice(0, 120)}`);
    }
    if (status === probe.refusal && isProblem(res)) return sample('ok', status);
    if (status === 503 && isProblem(res) && hasRetryAfter(res)) return sample('problem', status);
    if (probe.gateway && this.upstreamFault && (status === 502 || status === 504) && isProblem(res)) return sample('problem', status);
    return sample('bad', status, describe());
  }
}
