import { z } from 'zod';
import { ConfigError, readConfig, env, isRedisClusterUrl, requireHashTaggedPrefix, requireInProduction, shutdownConfigShape } from '@cloud-stack/service-kit';
import { AUDIT_QUEUE_PREFIX_DEFAULT, AUDIT_QUEUE_PREFIX_VARIABLE, ROLES } from '@cloud-stack/contracts';

/** The gateway's environment; a bad value stops start-up with one line naming the variable. */
export const gatewayConfigShape = {
  PORT: env.port(8080),
  HOST: env.string('0.0.0.0'),
  /** Worker processes (cluster); default: the CPUs this process may use. */
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/gateway'),
  DATABASE_POOL_MAX: env.int(4, 1),
  GATEWAY_MIGRATE_ON_START: env.bool(true),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  /** Prefix of the gateway's own Redis keys (rate limits, budget counters). */
  GATEWAY_REDIS_PREFIX: z.string().default('gw:'),
  /** Redis where identity publishes token revocations, when identity has a Redis of its own; default REDIS_URL. */
  IDENTITY_REDIS_URL: z.url().optional(),
  /** Prefix identity publishes its revocations under (identity's REDIS_PREFIX). */
  IDENTITY_REDIS_PREFIX: z.string().default(''),
  IDENTITY_URL: env.url('http://127.0.0.1:3333'),
  /** Identity as browsers reach it (the console signs in there); default IDENTITY_URL. */
  IDENTITY_PUBLIC_URL: z.url().optional(),
  IDENTITY_CLIENT_ID: env.string('gateway'),
  IDENTITY_CLIENT_SECRET: env.string(),
  INTROSPECTION_CACHE_SECONDS: env.int(30, 0),
  INTROSPECTION_NEGATIVE_CACHE_SECONDS: env.int(5, 0),
  INTROSPECTION_TIMEOUT_MS: env.int(2000, 1),
  POLICY_MODE: env.oneOf(['sidecar', 'embedded'] as const, 'sidecar'),
  POLICY_URL: env.url('http://127.0.0.1:8181'),
  /** Bearer token for a sidecar (or OPA) running with token authentication. */
  POLICY_TOKEN: env.optionalString(),
  /** Embedded mode: the policy directory, reloaded on change. */
  POLICY_DIR: env.string('infra/policies'),
  POLICY_WATCH: env.bool(true),
  POLICY_TIMEOUT_MS: env.int(500, 1),
  /** How long a decision is reused for an identical input; 0 turns the cache off. */
  POLICY_CACHE_TTL_MS: env.int(1000, 0),
  /** Roles that see a denial's reasons in the 403 body. */
  POLICY_REASONS_ROLES: env
    .list(['owner', 'admin', 'operator'])
    .pipe(z.array(z.enum(ROLES), { message: `each role must be one of ${ROLES.join(', ')}` })),
  AUDIT_EVENTS: env.bool(true),
  /** The audit queue's Redis when it is not REDIS_URL (the writer reads the queue from there). */
  AUDIT_REDIS_URL: z.url().optional(),
  /** BullMQ key prefix of the audit queue: the contract's one name, shared by every producer and the writer. */
  [AUDIT_QUEUE_PREFIX_VARIABLE]: env.string(AUDIT_QUEUE_PREFIX_DEFAULT),
  /** Audit events held in memory while Redis is away; past this they are dropped and counted. */
  AUDIT_BUFFER_EVENTS: env.int(50_000, 1),
  /**
   * Longest a response's last bytes wait for its audit event to be in Redis (so a SIGKILL cannot
   * lose the event of an answered request); past it the response ends and the event stays buffered.
   * 0 (default): audit never delays a response; a SIGKILL can lose the events of the last few
   * milliseconds (AUDIT_LINGER_MS plus a round trip), a SIGTERM loses none.
   */
  AUDIT_HOLD_MS: env.int(0, 0),
  /**
   * Longest an audit batch waits for the events of requests still in progress, so that under load
   * one enqueue carries many events; a lone request's event never waits for it.
   */
  AUDIT_GATHER_MS: env.int(2, 0),
  /**
   * How long an audit batch's first event waits for company before the batch is sent (0: one turn
   * of the event loop). Under light traffic each event would otherwise be its own enqueue. Default
   * 5 ms, or 0 with AUDIT_HOLD_MS set (a held response would wait as long).
   */
  AUDIT_LINGER_MS: z.coerce.number().int().min(0).optional(),
  /** HMAC secret for X-Gateway-Signature on upstream requests; unset = identity headers unsigned. */
  UPSTREAM_SIGNING_SECRET: env.optionalString(),
  MAX_BODY_BYTES: env.int(10 * 1024 * 1024, 1),
  MAX_HEADER_BYTES: env.int(16 * 1024, 1024),
  HEALTH_PROBE_INTERVAL_MS: env.int(5000, 100),
  HEALTH_PROBE_TIMEOUT_MS: env.int(2000, 10),
  HEALTH_PROBE_PATH: env.string('/health'),
  ...shutdownConfigShape,
  /** The operator console's built files, served at /__gateway/console/ (relative to the working directory). */
  CONSOLE_DIR: env.string('apps/console/dist'),
  /** The console's OAuth client at identity (public, authorization code with PKCE). */
  CONSOLE_CLIENT_ID: env.string('operator-console'),
  /** OpenAPI discovery of the live version's upstreams. */
  DISCOVERY_EVERY_MS: env.int(3_600_000, 0),
};

export type GatewayConfig = ReturnType<typeof readGatewayConfig>;

/** Production must name its servers and sign what it tells upstreams (the defaults are local, password-less servers). */
const PRODUCTION_REQUIRED = ['DATABASE_URL', 'REDIS_URL', 'IDENTITY_URL', 'POLICY_URL', 'UPSTREAM_SIGNING_SECRET'];

export function readGatewayConfig(source: Record<string, string | undefined> = process.env) {
  const config = readConfig(gatewayConfigShape, source);
  requireInProduction(source, config.POLICY_MODE === 'sidecar' ? PRODUCTION_REQUIRED : PRODUCTION_REQUIRED.filter((v) => v !== 'POLICY_URL'));
  requireHashTaggedPrefix(config.AUDIT_REDIS_URL ?? config.REDIS_URL, AUDIT_QUEUE_PREFIX_VARIABLE, config[AUDIT_QUEUE_PREFIX_VARIABLE]);
  // A hash tag here would come first in every rate-limit and budget key and put them all in one slot.
  if (isRedisClusterUrl(config.REDIS_URL) && /\{[^}]+\}/.test(config.GATEWAY_REDIS_PREFIX)) {
    throw new ConfigError('GATEWAY_REDIS_PREFIX', `${JSON.stringify(config.GATEWAY_REDIS_PREFIX)} must not carry a hash tag on a Redis Cluster: every rate-limit and budget key would share one slot`);
  }
  return config;
}
