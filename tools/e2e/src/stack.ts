import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  freePort,
  runProcess,
  startEchoUpstream,
  startOtlpReceiver,
  startProcess,
  useIdentityProcess,
  useRedisPrefix,
  useTestDatabase,
  waitForReady,
  type EchoUpstream,
  type IdentityProcess,
  type OtlpReceiver,
  type ServiceProcess,
} from '@cloud-stack/test-kit';
import { e2eRoutes, type Upstreams } from './routes';

export const GATEWAY_SECRET = 'demo-gateway-secret-change-me';
export const AUDIT_WRITER_SECRET = 'audit-writer-dev-secret';
export const SIGNING_SECRET = 'e2e-upstream-signing-secret';
/** The demo's trial agent and its monthly cap (as `npm start` sets it): 100 executions. */
export const TRIAL_AGENT = 'agent-trial-001';
export const TRIAL_CAP = 1000;

/** How long one start-up step may take: generous, since a busy CI machine starts seven node processes here. */
const STARTUP_MS = 180_000;

export type PolicyMode = 'sidecar' | 'embedded';

/** The columns of a stored audit row the scenarios look at (audit_events, as the audit-writer wrote it). */
export interface AuditRow {
  readonly event_id: string;
  readonly category: string;
  readonly correlation_id: string;
  readonly trace_id: string | null;
  readonly tenant_id: string | null;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly route_id: string | null;
  readonly status: number;
  readonly decision: { allow: boolean; reasons: string[]; policy: string | null; decision_id: string | null } | null;
  readonly sandbox_routed: boolean;
  readonly trial_mode: boolean;
  readonly upstream: string | null;
  readonly error_code: string | null;
  readonly details: Record<string, unknown> | null;
}

export interface E2eStack {
  readonly identity: IdentityProcess;
  /** The gateway in front of the policy-sidecar, and a second one deciding in-process (POLICY_MODE=embedded). */
  readonly gateways: Readonly<Record<PolicyMode, ServiceProcess>>;
  readonly sidecar: ServiceProcess;
  readonly auditWriter: ServiceProcess;
  /** The product API, the agent backend and its sandbox twin. */
  readonly upstreams: Upstreams<EchoUpstream>;
  /** Where every service exports its spans. */
  readonly otlp: OtlpReceiver;
  /** A (cached) access token of a seeded demo user. */
  token(email: string): Promise<string>;
  /** This month's spend of an agent, as the gateways' budget counter in Redis holds it. */
  spend(agentId: string): Promise<number>;
  /** The audit rows of these correlation ids once each has `perId` rows of `category` (default request), polled. */
  audited(correlationIds: readonly string[], options?: { category?: string; perId?: number }): Promise<AuditRow[]>;
  /** Calls the audit-writer's query API with a bearer token. */
  auditApi(token: string, pathAndQuery: string): Promise<Response>;
  /** The audit-writer's database (to seal or tamper with rows in a test). */
  readonly auditDatabaseUrl: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The platform as it runs in production, for one test file: identity, the policy-sidecar, the
 * audit-writer and the gateway each as its own process (plus a second gateway in embedded policy
 * mode on the same databases and Redis), three echo upstreams, the demo's seed, the demo's routes
 * (through the gateway's admin API) and trial budget (through its CLI), every service exporting
 * spans to an OTLP receiver, this file's own databases and Redis prefix.
 */
export function useE2eStack(): E2eStack {
  const gatewayDb = useTestDatabase('e2e_gateway');
  const auditDb = useTestDatabase('e2e_audit');
  const redis = useRedisPrefix('e2e');
  const prefix = `${redis.prefix}:`;
  const gatewayPrefix = `${prefix}gw:`;
  const shared = (): Record<string, string> => ({
    REDIS_URL: redis.url,
    AUDIT_QUEUE_PREFIX: `${prefix}bull`,
    HOST: '127.0.0.1',
    OTEL_EXPORTER_OTLP_ENDPOINT: get(otlp, 'the OTLP receiver').url,
    // Spans leave within a fifth of a second instead of the SDK's default five.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  const gatewayEnv = (mode: PolicyMode, identityUrl: string, sidecarUrl: string): Record<string, string> => ({
    ...shared(),
    DATABASE_URL: gatewayDb.url,
    GATEWAY_REDIS_PREFIX: gatewayPrefix,
    IDENTITY_REDIS_PREFIX: identity.prefix,
    IDENTITY_URL: identityUrl,
    IDENTITY_CLIENT_SECRET: GATEWAY_SECRET,
    POLICY_MODE: mode,
    POLICY_URL: sidecarUrl,
    POLICY_DIR: 'infra/policies',
    POLICY_WATCH: 'false',
    UPSTREAM_SIGNING_SECRET: SIGNING_SECRET,
    WEB_CONCURRENCY: '1',
    // `gateway budget` below has migrated; two gateways migrating at once would race.
    GATEWAY_MIGRATE_ON_START: 'false',
    DISCOVERY_EVERY_MS: '0',
    HEALTH_PROBE_INTERVAL_MS: '500',
    // The scenarios are about answers, not speed: on a busy machine a decision or an
    // introspection may take longer than the production timeouts, which would turn into 503s.
    POLICY_TIMEOUT_MS: '5000',
    INTROSPECTION_TIMEOUT_MS: '5000',
  });

  let otlp: OtlpReceiver | undefined;
  let upstreams: Upstreams<EchoUpstream> | undefined;
  let sidecar: ServiceProcess | undefined;
  let budgetsSet: Promise<unknown> | undefined;
  let state: { auditWriter: ServiceProcess; gateways: Record<PolicyMode, ServiceProcess>; pool: pg.Pool; redis: Redis } | undefined;

  // What needs no identity starts while identity is seeded and started: the receiver, the
  // upstreams, the sidecar, and the gateway's CLI (it migrates the gateway's database and sets the
  // demo's budgets, as `npm start` does).
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    const [product, agents, sandbox] = await Promise.all([startEchoUpstream('product'), startEchoUpstream('agents'), startEchoUpstream('sandbox')]);
    upstreams = { product, agents, sandbox };
    sidecar = startProcess('policy-sidecar', 'apps/policy-sidecar/src/main.ts', await freePort(), { ...shared(), POLICY_DIR: 'infra/policies', POLICY_WATCH: 'false' });
    const env = gatewayEnv('sidecar', 'http://127.0.0.1:1', sidecar.url);
    budgetsSet = runProcess('apps/gateway/src/cli.ts', ['budget', TRIAL_AGENT, String(TRIAL_CAP), 'acme'], env);
    // Awaited in the next hook; until then a failure must not count as unhandled.
    budgetsSet.catch(() => undefined);
  });
  const identity = useIdentityProcess(shared);

  beforeAll(async () => {
    const sidecarProcess = get(sidecar, 'the policy-sidecar');
    const [auditPort, gatewayPort, embeddedPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const auditWriter = startProcess('audit-writer', 'apps/audit-writer/src/main.ts', auditPort, {
      ...shared(),
      DATABASE_URL: auditDb.url,
      IDENTITY_URL: identity.url,
      IDENTITY_REDIS_PREFIX: identity.prefix,
      AUDIT_INTROSPECTION_CLIENT_SECRET: AUDIT_WRITER_SECRET,
    });
    await budgetsSet;
    const gateways = {
      sidecar: startProcess('gateway', 'apps/gateway/src/main.ts', gatewayPort, gatewayEnv('sidecar', identity.url, sidecarProcess.url)),
      embedded: startProcess('gateway-embedded', 'apps/gateway/src/main.ts', embeddedPort, gatewayEnv('embedded', identity.url, sidecarProcess.url)),
    };
    state = { auditWriter, gateways, pool: new pg.Pool({ connectionString: auditDb.url, max: 2 }), redis: new Redis(redis.url, { maxRetriesPerRequest: 1 }) };

    // The demo's route file through the gateway's admin API (as a platform owner), moved onto this
    // suite's upstreams; the embedded gateway loads it from the shared database on NOTIFY.
    await Promise.all([waitForReady(sidecarProcess, '/health', STARTUP_MS), waitForReady(gateways.sidecar, '/health', STARTUP_MS)]);
    const u = get(upstreams, 'the upstreams');
    const applied = await fetch(`${gateways.sidecar.url}/__gateway/admin/apply?activate=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await identity.token('owner@cloudstack.example')}`, 'content-type': 'application/json' },
      body: JSON.stringify(e2eRoutes({ product: u.product.url, agents: u.agents.url, sandbox: u.sandbox.url }, auditWriter.url)),
    });
    if (applied.status !== 201) throw new Error(`applying the routes: ${applied.status} ${await applied.text()}`);
    await Promise.all([auditWriter, gateways.sidecar, gateways.embedded].map((s) => waitForReady(s, '/ready', STARTUP_MS)));
  }, STARTUP_MS * 2);

  afterAll(async () => {
    // The gateways first (they flush their audit events), the audit-writer last.
    await Promise.all([state?.gateways.sidecar.stop(), state?.gateways.embedded.stop()]);
    await sidecar?.stop();
    await state?.auditWriter.stop();
    await Promise.all(Object.values(upstreams ?? {}).map((u) => u.close()));
    await state?.pool.end();
    state?.redis.disconnect();
    await otlp?.close();
  });

  const current = () => get(state, 'the e2e stack');
  const tokens = new Map<string, Promise<string>>();

  return {
    identity,
    get gateways() {
      return current().gateways;
    },
    get sidecar() {
      return get(sidecar, 'the policy-sidecar');
    },
    get auditWriter() {
      return current().auditWriter;
    },
    get upstreams() {
      return get(upstreams, 'the upstreams');
    },
    get otlp() {
      return get(otlp, 'the OTLP receiver');
    },
    get auditDatabaseUrl() {
      return auditDb.url;
    },
    token(email) {
      let token = tokens.get(email);
      if (!token) tokens.set(email, (token = identity.token(email)));
      return token;
    },
    async spend(agentId) {
      const month = new Date().toISOString().slice(0, 7);
      return Number((await current().redis.get(`${gatewayPrefix}budget:${agentId}:${month}`)) ?? 0);
    },
    async audited(correlationIds, options = {}) {
      const category = options.category ?? 'request';
      const perId = options.perId ?? 1;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { rows } = await current().pool.query<AuditRow>('SELECT * FROM audit_events WHERE correlation_id = ANY($1::text[]) AND category = $2 ORDER BY seq', [
          correlationIds,
          category,
        ]);
        const counts = new Map<string, number>();
        for (const r of rows) counts.set(r.correlation_id, (counts.get(r.correlation_id) ?? 0) + 1);
        if (correlationIds.every((id) => (counts.get(id) ?? 0) >= perId)) return rows;
        if (Date.now() > deadline) {
          const missing = correlationIds.filter((id) => (counts.get(id) ?? 0) < perId);
          throw new Error(`audit rows missing after 15 s for ${missing.length} of ${correlationIds.length} correlation ids, e.g. ${missing.slice(0, 3).join(', ')}`);
        }
        await sleep(100);
      }
    },
    auditApi(token, pathAndQuery) {
      return fetch(`${current().auditWriter.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } });
    },
  };
}

function get<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new TypeError(`${what} exists only inside tests and hooks`);
  return value;
}
