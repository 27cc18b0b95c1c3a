import { afterAll, beforeAll } from 'vitest';
import { Queue } from 'bullmq';
import { AUDIT_QUEUE, auditBatchEvents, type AuditBatch, type AuditEventInput } from '@cloud-stack/contracts';
import { createLogger, startServer, type RunningServer } from '@cloud-stack/service-kit';
import {
  freePort,
  REPO_ROOT,
  startEchoUpstream,
  startProcess,
  useIdentityProcess,
  useRedisPrefix,
  useTestDatabase,
  waitForReady,
  type EchoUpstream,
  type ServiceProcess,
} from '@cloud-stack/test-kit';
import { createGateway, type Gateway } from '../../src/app';
import { readGatewayConfig } from '../../src/config';

export const GATEWAY_SECRET = 'demo-gateway-secret-change-me';
export const SIGNING_SECRET = 'test-upstream-signing-secret';

export interface StackOptions {
  readonly policyMode?: 'sidecar' | 'embedded';
  /** Start no policy-sidecar (to see the gateway with its policy down). */
  readonly noSidecar?: boolean;
  /** Extra gateway environment. */
  readonly gatewayEnv?: Record<string, string>;
  /** The route file, given the upstreams' URLs. */
  readonly routes: (up: { primary: string; sandbox: string; forge: string }) => unknown;
  /** Agent budgets to set: agent id → monthly cap. */
  readonly budgets?: Record<string, number>;
}

export interface Stack {
  readonly gatewayUrl: string;
  readonly gateway: Gateway;
  readonly identity: ServiceProcess;
  readonly sidecar: ServiceProcess | undefined;
  readonly primary: EchoUpstream;
  readonly sandbox: EchoUpstream;
  readonly forge: EchoUpstream;
  readonly redisPrefix: string;
  readonly redisUrl: string;
  /** An access token for a seeded demo user (password grant, public client `console`). */
  token(email: string, fresh?: boolean): Promise<string>;
  /** Audit events the gateway enqueued so far (flushes its producer first). */
  auditEvents(): Promise<AuditEventInput[]>;
  /** The environment of this stack's gateway, for starting it as a process. */
  env(): Record<string, string>;
  /** Starts another gateway instance on the same database and Redis (a replica). */
  replica(): Promise<{ url: string; gateway: Gateway; close(): Promise<void> }>;
}

/**
 * The gateway in-process in front of real services: identity and the policy-sidecar as their own
 * processes (seeded demo identity, the repository's policies), three echo upstreams, and this
 * file's own databases and Redis prefix.
 */
export function useGatewayStack(options: StackOptions): Stack {
  const identity = useIdentityProcess();
  const gatewayDb = useTestDatabase('gw');
  const redis = useRedisPrefix('gw');
  const prefix = `${redis.prefix}:`;
  let state:
    | { gateway: Gateway; server: RunningServer; sidecar?: ServiceProcess; ups: EchoUpstream[]; replicas: Array<() => Promise<void>> }
    | undefined;

  const gatewayEnv = (identityUrl: string, sidecarUrl: string): Record<string, string> => ({
    DATABASE_URL: gatewayDb.url,
    REDIS_URL: redis.url,
    GATEWAY_REDIS_PREFIX: prefix,
    IDENTITY_REDIS_PREFIX: identity.prefix,
    AUDIT_QUEUE_PREFIX: `${prefix}bull`,
    IDENTITY_URL: identityUrl,
    IDENTITY_CLIENT_SECRET: GATEWAY_SECRET,
    POLICY_MODE: options.policyMode ?? 'sidecar',
    POLICY_URL: sidecarUrl,
    POLICY_WATCH: 'false',
    POLICY_DIR: `${REPO_ROOT}/infra/policies`,
    UPSTREAM_SIGNING_SECRET: SIGNING_SECRET,
    HEALTH_PROBE_INTERVAL_MS: '200',
    ...options.gatewayEnv,
  });

  beforeAll(async () => {
    const sidecarPort = await freePort();
    const sidecar =
      options.noSidecar || options.policyMode === 'embedded'
        ? undefined
        : startProcess('policy-sidecar', 'apps/policy-sidecar/src/main.ts', sidecarPort, { DECISION_LOG_SINK: 'none', POLICY_WATCH: 'false', HOST: '127.0.0.1' });
    const ups = await Promise.all([startEchoUpstream('primary'), startEchoUpstream('sandbox'), startEchoUpstream('forge')]);
    if (sidecar) await waitForReady(sidecar, '/health');

    const config = readGatewayConfig(gatewayEnv(identity.url, `http://127.0.0.1:${sidecarPort}`));
    const gateway = await createGateway(config, createLogger('gateway-test', 'silent'));
    const draft = await gateway.store.applyFile(options.routes({ primary: ups[0]!.url, sandbox: ups[1]!.url, forge: ups[2]!.url }), { createdBy: 'test' });
    await gateway.store.activate(draft.version);
    await gateway.table.reload();
    for (const [agent, cap] of Object.entries(options.budgets ?? {})) await gateway.budgets.setCap(agent, null, cap);
    await gateway.health.probeAll();
    const server = await startServer(gateway.app, { express: gateway.express, port: 0, host: '127.0.0.1', logger: createLogger('gateway-test', 'silent'), handleSignals: false, maxHeaderSize: config.MAX_HEADER_BYTES });
    server.server.on('upgrade', gateway.upgrade);
    state = { gateway, server, sidecar, ups, replicas: [] };
  }, 120_000);

  afterAll(async () => {
    if (!state) return;
    for (const close of state.replicas) await close();
    await state.server.close();
    await state.gateway.close();
    await state.sidecar?.stop();
    await Promise.all(state.ups.map((u) => u.close()));
  });

  const get = () => {
    if (!state) throw new TypeError('the gateway stack exists only inside tests and hooks');
    return state;
  };
  const tokens = new Map<string, string>();

  return {
    get gatewayUrl() {
      return `http://127.0.0.1:${get().server.port}`;
    },
    get gateway() {
      return get().gateway;
    },
    get identity() {
      return identity.process;
    },
    get sidecar() {
      return get().sidecar;
    },
    get primary() {
      return get().ups[0]!;
    },
    get sandbox() {
      return get().ups[1]!;
    },
    get forge() {
      return get().ups[2]!;
    },
    redisPrefix: prefix,
    get redisUrl() {
      return redis.url;
    },
    async token(email: string, fresh = false) {
      const cached = tokens.get(email);
      if (cached && !fresh) return cached;
      const token = await identity.token(email);
      tokens.set(email, token);
      return token;
    },
    async auditEvents() {
      await get().gateway.audit?.flush();
      const queue = new Queue<AuditBatch>(AUDIT_QUEUE, { connection: { url: redis.url }, prefix: `${prefix}bull` });
      try {
        const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
        return jobs.flatMap((j) => auditBatchEvents(j.data) as AuditEventInput[]);
      } finally {
        await queue.close();
      }
    },
    env() {
      const s = get();
      return gatewayEnv(identity.url, s.sidecar?.url ?? 'http://127.0.0.1:1');
    },
    async replica() {
      const s = get();
      const config = readGatewayConfig(gatewayEnv(identity.url, s.sidecar?.url ?? 'http://127.0.0.1:1'));
      const gateway = await createGateway({ ...config, GATEWAY_MIGRATE_ON_START: false }, createLogger('gateway-replica', 'silent'));
      const server = await startServer(gateway.app, { express: gateway.express, port: 0, host: '127.0.0.1', logger: createLogger('gateway-replica', 'silent'), handleSignals: false });
      const close = async () => {
        await server.close();
        await gateway.close();
      };
      s.replicas.push(close);
      return { url: `http://127.0.0.1:${server.port}`, gateway, close };
    },
  };
}

/** The demo's routes: a path-routed agents product with a sandbox twin, and a host-routed product. */
export function demoRoutes(up: { primary: string; sandbox: string; forge: string }) {
  return {
    products: [
      {
        name: 'agents',
        upstream: `${up.primary}/v1`,
        sandbox_upstream: `${up.sandbox}/v1`,
        routes: [
          { id: 'agents.list', path: '/api/v1/agents', methods: ['GET'], permission: 'agent:read' },
          { id: 'agents.create', path: '/api/v1/agents', methods: ['POST'], permission: 'agent:create', requires_governor: true },
          { id: 'agents.execute', path: '/api/agents/{id}/execute', methods: ['POST'], permission: 'agent:execute', cost: 10 },
          { id: 'agents.execute-fail', path: '/api/agents/{id}/fail', methods: ['POST'], permission: 'agent:execute', cost: 10 },
          { id: 'agents.slow', path: '/api/slow', permission: 'agent:read', timeout_ms: 300, strip_prefix: '/api' },
          { id: 'agents.fail', path: '/api/fail', permission: 'agent:read', strip_prefix: '/api' },
          { id: 'agents.big', path: '/api/big', permission: 'agent:read', strip_prefix: '/api' },
          { id: 'agents.limited', path: '/api/limited', permission: 'agent:read', rate_limit: { per_minute: 3 } },
          { id: 'agents.degraded', path: '/api/degraded', permission: 'agent:read', failure: { policy: 'open' } },
          { id: 'admin.area', path: '/api/admin/*', permission: 'route:admin' },
          { id: 'agents.stream', path: '/api/stream', methods: ['GET'], permission: 'agent:read', websocket: true, rate_limit: { per_minute: 1000 } },
          { id: 'agents.readonly', path: '/readonly/{id}', methods: ['GET'], permission: 'agent:read' },
          { id: 'public.docs', path: '/public/*', permission: '', stages: ['audit'], cors_origins: ['https://portal.example'] },
          { id: 'catch.all', path: '/api/*', permission: 'agent:read' },
        ],
      },
      {
        name: 'platformforge',
        upstream: up.forge,
        hosts: ['platformforge.example', '*.platformforge.example'],
        routes: [{ id: 'forge.all', path: '/*', permission: 'agent:read' }],
      },
    ],
  };
}
