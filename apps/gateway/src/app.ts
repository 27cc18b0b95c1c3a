import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import express from 'express';
import { createAuditProducer, type AuditProducer } from '@cloud-stack/audit-producer';
import { type AuditEventInput, type PolicyInput } from '@cloud-stack/contracts';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { createIdentityClient, type IdentityClient } from '@cloud-stack/identity-client';
import {
  consoleStatic,
  createAdminRouter,
  createRouteDiscovery,
  discoveryQueuePrefix,
  EventStreams,
  redisTrafficStore,
  scheduleRouteDiscovery,
  TrafficHistory,
  type AdminDeps,
  type DiscoverySchedule,
  type PolicyPlayground,
} from '@cloud-stack/gateway-admin';
import { createRouteStore, gatewayRoutingMigrations, openRouteTable, type GatewayRoutingDatabase, type RouteStore, type RouteTable } from '@cloud-stack/gateway-routing';
import {
  auditStage,
  authenticateStage,
  authorizeStage,
  budgetInputFor,
  budgetMigrations,
  BudgetStore,
  budgetStage,
  DecisionCache,
  embeddedPolicyClient,
  gatewayHandler,
  gatewayUpgradeHandler,
  pipelineFirst,
  policyInputFor,
  PolicyUnavailableError,
  rateLimitStage,
  refundOnFailure,
  sidecarPolicyClient,
  subjectOf,
  tokenRequired,
  UpstreamAgents,
  UpstreamHealth,
  type BudgetSchema,
  type PendingEvents,
  type PolicyClient,
} from '@cloud-stack/gateway-pipeline';
import { bullConnection, correlationId, createRedisClient, pubSubUrl, errorHandler, healthHandler, HttpProblem, type ExpressPrototypes, metricsHandler, MetricsRegistry, readyHandler, type Logger, type ReadinessCheck } from '@cloud-stack/service-kit';
import type { GatewayConfig } from './config';

export interface Gateway {
  /** The HTTP request listener: the gateway's own endpoints and the admin API (an Express app), and every other request through its route's pipeline. */
  readonly app: RequestListener;
  /** The Express app behind `app`, whose prototypes the server gives each request and response (startServer's `express`). */
  readonly express: ExpressPrototypes;
  /** The server's `upgrade` listener: WebSocket through the same pipeline. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly table: RouteTable;
  readonly store: RouteStore;
  readonly budgets: BudgetStore;
  readonly health: UpstreamHealth;
  readonly metrics: MetricsRegistry;
  readonly traffic: TrafficHistory;
  /** Ends the admin API's open event streams (at shutdown, so they do not hold the drain). */
  endStreams(): void;
  readonly audit: AuditProducer | undefined;
  close(): Promise<void>;
}

/** Paths one of the gateway's own endpoints may answer (as Express matches them); every other request goes straight to the pipeline. */
const OWN_PATHS = /^\/(?:health|ready|metrics|__gateway)(?:[/?]|$)/i;

/** The gateway's database: the routing tables and the budget tables. */
export type GatewayDatabase = GatewayRoutingDatabase & BudgetSchema;

/** One pool, seen by each lib as its own tables (Kysely's schema type is invariant, so a cast). */
const tablesOf = <T>(db: Kysely<GatewayDatabase>) => db as unknown as Kysely<T>;

/** Brings the gateway's database up to date (routing and budget tables, each with its own migration history). */
export async function migrateGateway(gatewayDb: Kysely<GatewayDatabase>): Promise<string[]> {
  const db = tablesOf<unknown>(gatewayDb);
  const routing = await migrateToLatest(db, gatewayRoutingMigrations, { tableName: 'gateway_routing_migration' });
  const budgets = await migrateToLatest(db, budgetMigrations, { tableName: 'gateway_budget_migration' });
  return [...routing, ...budgets];
}

async function openPolicy(config: GatewayConfig, logger: Logger): Promise<PolicyClient> {
  if (config.POLICY_MODE === 'embedded') {
    return embeddedPolicyClient({ dir: config.POLICY_DIR, watch: config.POLICY_WATCH, timeoutMs: config.POLICY_TIMEOUT_MS, logger });
  }
  return sidecarPolicyClient({ url: config.POLICY_URL, token: config.POLICY_TOKEN, timeoutMs: config.POLICY_TIMEOUT_MS });
}

/**
 * Admin callers are authenticated like any request and authorized by the same policy, for the
 * admin API's permissions (`route:read`, `route:admin`): one source of truth for who may do what.
 */
function adminAccess(identity: IdentityClient, policy: PolicyClient): Pick<AdminDeps, 'authenticate' | 'authorize'> {
  return {
    async authenticate(req) {
      const subject = await subjectOf(identity, req.headers.authorization);
      if (!subject) throw tokenRequired();
      return subject;
    },
    async authorize(subject, permission) {
      const input: PolicyInput = {
        request: { method: 'POST', host: 'gateway', path: '/__gateway/admin' },
        route: { id: '__gateway.admin', params: {}, permission, requires_governor: false, cost: 0 },
        subject,
        budget: null,
      };
      try {
        return (await policy.decide('gateway/authz/decision', input)).result.allow;
      } catch {
        throw new HttpProblem(503, 'the policy service cannot be reached; try again later', { headers: { 'Retry-After': '5' } });
      }
    },
  };
}

const policyDown = (err: unknown) =>
  err instanceof PolicyUnavailableError ? new HttpProblem(503, `the policy service cannot be reached: ${err.message}`, { headers: { 'Retry-After': '5' } }) : err;

/** The console's policy page: the loaded policy, and decisions as the authorize stage would ask for them (no cache). */
function policyPlayground(policy: PolicyClient, budgets: BudgetStore): PolicyPlayground {
  return {
    describe: () => policy.describe().catch((err: unknown) => Promise.reject(policyDown(err))),
    async inputFor(route, request, subject) {
      return policyInputFor(route, request, subject, await budgetInputFor(route, subject, (agent) => budgets.state(agent)));
    },
    decide: (path, input) =>
      policy.decide(path, input).then(
        (d) => d.result,
        (err: unknown) => Promise.reject(policyDown(err)),
      ),
  };
}

/**
 * Opens everything the gateway needs and composes its HTTP app, in the order requests meet it:
 * the gateway's own endpoints, the admin API, then every other request through its route's pipeline.
 */
export async function createGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  const db = createDb<GatewayDatabase>(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: 'gateway' });
  if (config.GATEWAY_MIGRATE_ON_START) {
    const applied = await migrateGateway(db);
    if (applied.length) logger.info({ applied }, 'gateway migrations applied');
  }
  const metrics = new MetricsRegistry();
  // Commands fail at once while Redis is away (no offline queue), so a stage can apply its route's
  // failure mode instead of holding the request.
  // REDIS_URL may name a Redis Cluster (redis+cluster://): the same commands, key slots permitting.
  const redis = createRedisClient(config.REDIS_URL, { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, lazyConnect: true });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  await redis.connect();

  const identity = createIdentityClient({
    url: config.IDENTITY_URL,
    clientId: config.IDENTITY_CLIENT_ID,
    clientSecret: config.IDENTITY_CLIENT_SECRET,
    cacheTtlSeconds: config.INTROSPECTION_CACHE_SECONDS,
    negativeTtlSeconds: config.INTROSPECTION_NEGATIVE_CACHE_SECONDS,
    timeoutMs: config.INTROSPECTION_TIMEOUT_MS,
    revocations: { redisUrl: pubSubUrl(config.IDENTITY_REDIS_URL ?? config.REDIS_URL), prefix: config.IDENTITY_REDIS_PREFIX },
    logger,
    metrics,
  });
  await identity.ready();
  const policy = await openPolicy(config, logger);
  const auditRedis = config.AUDIT_EVENTS ? bullConnection(config.AUDIT_REDIS_URL ?? config.REDIS_URL) : undefined;
  const unaudited: PendingEvents = { count: 0 };
  const audit = auditRedis
    ? createAuditProducer({
        connection: auditRedis.connection,
        prefix: config.AUDIT_QUEUE_PREFIX,
        maxBuffered: config.AUDIT_BUFFER_EVENTS,
        coming: () => unaudited.count,
        gatherMs: config.AUDIT_GATHER_MS,
        lingerMs: config.AUDIT_LINGER_MS ?? (config.AUDIT_HOLD_MS > 0 ? 0 : 5),
        logger,
        metrics,
      })
    : undefined;
  const emit = (event: AuditEventInput) => audit?.emit(event) ?? false;

  const store = createRouteStore(tablesOf<GatewayRoutingDatabase>(db));
  const table = await openRouteTable({ db: tablesOf<GatewayRoutingDatabase>(db), databaseUrl: config.DATABASE_URL, logger });
  const health = new UpstreamHealth({ intervalMs: config.HEALTH_PROBE_INTERVAL_MS, timeoutMs: config.HEALTH_PROBE_TIMEOUT_MS, path: config.HEALTH_PROBE_PATH, logger });
  const trackUpstreams = () => health.track(table.routes().flatMap((r) => (r.sandbox_upstream ? [r.upstream, r.sandbox_upstream] : [r.upstream])));
  trackUpstreams();
  const stopTracking = table.onChange(trackUpstreams);
  health.start();
  const budgets = new BudgetStore({ db: tablesOf<BudgetSchema>(db), redis, prefix: config.GATEWAY_REDIS_PREFIX, logger });
  const agents = new UpstreamAgents();
  const discovery = createRouteDiscovery({ store, logger });
  const discoverySchedule: DiscoverySchedule | undefined =
    config.DISCOVERY_EVERY_MS > 0
      ? await scheduleRouteDiscovery({ discovery, redis: { url: config.REDIS_URL, prefix: discoveryQueuePrefix(config.REDIS_URL, config.GATEWAY_REDIS_PREFIX) }, logger, everyMs: config.DISCOVERY_EVERY_MS })
      : undefined;

  // The pipeline, in the order its stages run. Audit comes first: it takes over the response's last
  // bytes (to record the event before they go), so refusals by any later stage are recorded too.
  const stages = [
    ...(audit
      ? [
          auditStage({
            emit: (event) => audit.emitAndConfirm(event),
            holdMs: config.AUDIT_HOLD_MS,
            pending: unaudited,
            unconfirmed: metrics.counter('gateway_audit_unconfirmed_total', 'Responses that ended before their audit event was in Redis'),
          }),
        ]
      : []),
    authenticateStage({ identity }),
    authorizeStage({
      policy,
      cache: new DecisionCache(config.POLICY_CACHE_TTL_MS),
      budgetState: (agent) => budgets.state(agent),
      reasonsVisibleTo: config.POLICY_REASONS_ROLES,
      decisions: metrics.counter('gateway_policy_decisions_total', 'Policy decisions by result and decision-cache hit or miss'),
    }),
    rateLimitStage({ redis, prefix: config.GATEWAY_REDIS_PREFIX, limited: metrics.counter('gateway_rate_limited_total', 'Requests refused by a rate limit, by route') }),
    budgetStage({ budgets }),
  ];

  const checks: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await sql`SELECT 1`.execute(db)) },
    { name: 'redis', check: async () => void (await redis.ping()) },
    // Revocations must reach this instance, or a revoked token would stay usable until its cache entry expires.
    identity.readiness,
    { name: 'identity', check: async () => void (await fetch(new URL('/health', config.IDENTITY_URL), { signal: AbortSignal.timeout(1500) }).then((r) => r.ok || Promise.reject(new Error(`answered ${r.status}`)))) },
    { name: 'policy', check: () => policy.check() },
    {
      name: 'routes',
      // Thrown, not a Promise.reject() left unawaited: that one went unhandled and ended the process.
      check: async () => {
        if (table.version() === null) throw new Error('no route version is active');
      },
    },
  ];

  const upstreamsReport = () => {
    const upstreams = health.snapshot();
    return { status: upstreams.some((u) => u.state === 'down') ? 'degraded' : 'ok', upstreams };
  };
  const streams = new EventStreams();
  // Every process (cluster worker, replica) adds its steps in Redis, so any of them shows the whole gateway.
  const traffic = new TrafficHistory({ metrics, store: redisTrafficStore(redis, config.GATEWAY_REDIS_PREFIX), logger });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);
  app.get('/health', healthHandler('gateway'));
  app.get('/ready', readyHandler('gateway', checks));
  app.get('/metrics', metricsHandler(metrics));
  app.get('/__gateway/health/upstreams', (_req, res) => {
    res.json(upstreamsReport());
  });
  // The console's files are public (its API calls carry the token), so they sit outside the admin auth.
  const identityPublicUrl = config.IDENTITY_PUBLIC_URL ?? config.IDENTITY_URL;
  app.use(
    '/__gateway/console',
    consoleStatic({
      dir: config.CONSOLE_DIR,
      connectOrigins: [identityPublicUrl],
      clientConfig: { identity_url: identityPublicUrl.replace(/\/$/, ''), client_id: config.CONSOLE_CLIENT_ID, audit_base: '/v1/audit' },
    }),
  );
  app.use(
    '/__gateway/admin',
    correlationId(),
    createAdminRouter({
      store,
      table,
      ...adminAccess(identity, policy),
      emitAudit: emit,
      logger,
      discovery,
      upstreams: { report: upstreamsReport, onChange: (listener) => health.onChange(listener) },
      streams,
      traffic,
      policy: policyPlayground(policy, budgets),
    }),
  );
  const pipeline = {
    routes: table,
    stages,
    proxy: { health, signingSecret: config.UPSTREAM_SIGNING_SECRET, maxBodyBytes: config.MAX_BODY_BYTES, onUpstreamFailure: refundOnFailure(budgets, logger) },
    agents,
    maxBodyBytes: config.MAX_BODY_BYTES,
    metrics: {
      requests: metrics.counter('gateway_requests_total', 'Requests by route and status'),
      latency: metrics.histogram('gateway_request_duration_seconds', 'Time from request to response end, by route'),
    },
  };
  const proxied = gatewayHandler(pipeline);
  const onError = errorHandler(logger);
  app.use(proxied);
  app.use(onError);
  // After the pipeline's metrics are registered, so the first sample sees them all.
  traffic.start();

  return {
    app: pipelineFirst(app, OWN_PATHS, proxied, onError),
    express: app,
    upgrade: gatewayUpgradeHandler(pipeline),
    table,
    store,
    budgets,
    health,
    metrics,
    traffic,
    endStreams: () => streams.endAll(),
    audit,
    async close() {
      traffic.close();
      stopTracking();
      health.close();
      await discoverySchedule?.close();
      await audit?.close();
      await auditRedis?.close();
      await budgets.close().catch((err) => logger.warn({ err }, 'budget flush on close failed'));
      await table.close();
      await identity.close();
      await policy.close();
      agents.close();
      redis.disconnect();
      await db.destroy();
    },
  };
}
