import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, sql } from '@cloud-stack/db';
import { createAuditProducer, type AuditProducer } from '@cloud-stack/audit-producer';
import { uuidv7 } from '@cloud-stack/contracts';
import type { Fault, FaultContext } from './faults';
import { startInfra } from './infra';
import { runCommand, Service, type ServiceName } from './stack';
import { GATEWAY_CACHE_MS, gatewayRoutes, probes, Traffic, type Outcome, type Sample } from './traffic';
import { ChaosUpstream } from './upstream';

export interface ChaosOptions {
  readonly faults: readonly Fault[];
  /** Steady traffic before each fault. */
  readonly settleMs: number;
  /** Longest wait for every service to be ready and every probe to succeed again. */
  readonly recoverTimeoutMs: number;
  /** The audit-writer's AUDIT_LOCK_DURATION_MS / AUDIT_STALLED_INTERVAL_MS (its defaults when absent). */
  readonly auditLockMs?: number;
  readonly auditStalledMs?: number;
  /** Where each service's log goes (one file per service). */
  readonly logDir: string;
  readonly log?: (line: string) => void;
}

export interface FaultResult {
  readonly id: string;
  readonly title: string;
  /** From the fault's start until every service is ready and every probe succeeded again; null: not within the timeout. */
  readonly recoverMs: number | null;
  readonly requests: Readonly<Record<Outcome, number>>;
  /** What the `bad` requests were (first few). */
  readonly bad: readonly string[];
  /** Audit events emitted while the fault lasted, stored, and when the last of them was (from the fault's start). */
  readonly audit: { readonly emitted: number; readonly stored: number; readonly caughtUpMs: number | null };
  /**
   * The gateway's own `request` audit events, by correlation id: each request it answered must be
   * stored once (`lost`: none stored); none may be stored twice, answered or not (`duplicated`).
   */
  readonly gatewayAudit: {
    readonly answered: number;
    readonly stored: number;
    readonly lost: number;
    readonly duplicated: number;
    /** The first few lost: which request, and when it was answered relative to the gateway's last SIGKILL. */
    readonly lostDetail: readonly string[];
  };
  /** What the fault itself had to show and did not (its `check`). */
  readonly findings: readonly string[];
  readonly exits: readonly string[];
  readonly passed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Audit events the suite emits through the shared producer, labelled by the fault they lived through. */
class AuditStream {
  label = 'start';
  readonly emitted = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly producer: AuditProducer) {
    this.timer = setInterval(() => {
      for (let i = 0; i < 5; i++) {
        const n = this.emitted.get(this.label) ?? 0;
        const accepted = producer.emit({
          event_id: uuidv7(),
          occurred_at: new Date().toISOString(),
          correlation_id: `${this.label}:${n}`,
          causation_id: null,
          trace_id: null,
          tenant_id: 'acme',
          user_id: 'chaos',
          client_id: 'chaos',
          agent_id: null,
          route_id: 'chaos',
          method: 'GET',
          host: 'chaos.local',
          path: '/chaos',
          status: 200,
          duration_ms: 1,
          decision: null,
          sandbox_routed: false,
          trial_mode: false,
          upstream: null,
          ip: null,
          user_agent: 'chaos',
          error_code: null,
        });
        if (accepted) this.emitted.set(this.label, n + 1);
      }
    }, 20);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.producer.close();
  }
}

async function token(identity: Service, username: string, password: string): Promise<string> {
  const res = await fetch(`${identity.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username, password }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Gateway requests answered in `samples`, and how many audit events each has in the audit database. */
async function gatewayAuditOf(
  samples: readonly Sample[],
  stored: (ids: string[]) => Promise<Map<string, number>>,
  gateway: Service,
  timeoutMs: number,
): Promise<FaultResult['gatewayAudit']> {
  const sent = samples.filter((s) => s.correlationId !== undefined);
  const answered = sent.filter((s) => s.status !== undefined).map((s) => s.correlationId!);
  const ids = sent.map((s) => s.correlationId!);
  const deadline = Date.now() + timeoutMs;
  let counts = new Map<string, number>();
  for (;;) {
    counts = await stored(ids).catch(() => counts);
    if (answered.every((id) => counts.has(id)) || Date.now() >= deadline) break;
    await sleep(200);
  }
  const lost = sent.filter((s) => s.status !== undefined && !counts.has(s.correlationId!));
  return {
    answered: answered.length,
    stored: answered.length - lost.length,
    lost: lost.length,
    duplicated: [...counts.values()].filter((n) => n > 1).length,
    lostDetail: lost.slice(0, 5).map((s) => {
      const beforeKill = gateway.lastKilledAt - (s.startedAt + s.ms);
      const when = gateway.lastKilledAt && Math.abs(beforeKill) < 60_000 ? `, answered ${beforeKill} ms before the gateway's SIGKILL` : '';
      return `gateway audit event lost: ${s.correlationId} (${s.probe}, ${s.status}${when})`;
    }),
  };
}

/**
 * Starts PostgreSQL, Redis and every service as its own process, runs steady traffic and the audit
 * stream, and injects the faults one at a time; for each: recovery time, how every request ended,
 * whether each audit event was stored exactly once, and whether any process exited on its own.
 */
export async function runChaos(options: ChaosOptions): Promise<FaultResult[]> {
  const log = options.log ?? (() => undefined);
  const upstream = await ChaosUpstream.create();
  log('starting PostgreSQL (embedded) and redis-server (AOF)…');
  const infra = await startInfra();
  const services: Partial<Record<ServiceName, Service>> = {};
  let traffic: Traffic | undefined;
  let audit: AuditStream | undefined;
  // Through libs/db like the services, so the suite's own reads ride out the same faults.
  const auditDb = createDb<unknown>(infra.databaseUrl('audit'), { max: 1, applicationName: 'chaos-suite' });
  try {
    const redisUrl = infra.redis.url;
    const identityEnv = { DATABASE_URL: infra.databaseUrl('identity'), REDIS_URL: redisUrl, SCRYPT_LOG_N: '10', LOG_LEVEL: 'warn' };
    services.identity = await Service.create({ name: 'identity', entry: 'apps/identity/src/main.ts', env: identityEnv }, options.logDir);
    services['policy-sidecar'] = await Service.create(
      { name: 'policy-sidecar', entry: 'apps/policy-sidecar/src/main.ts', env: { REDIS_URL: redisUrl, POLICY_DIR: 'infra/policies', POLICY_WATCH: 'false', LOG_LEVEL: 'warn' } },
      options.logDir,
    );
    services['audit-writer'] = await Service.create(
      {
        name: 'audit-writer',
        entry: 'apps/audit-writer/src/main.ts',
        env: {
          DATABASE_URL: infra.databaseUrl('audit'),
          REDIS_URL: redisUrl,
          IDENTITY_URL: services.identity.url,
          AUDIT_INTROSPECTION_CLIENT_SECRET: 'audit-writer-dev-secret',
          LOG_LEVEL: 'warn',
          ...(options.auditLockMs ? { AUDIT_LOCK_DURATION_MS: String(options.auditLockMs) } : {}),
          ...(options.auditStalledMs ? { AUDIT_STALLED_INTERVAL_MS: String(options.auditStalledMs) } : {}),
        },
      },
      options.logDir,
    );
    const gatewayEnv = {
      DATABASE_URL: infra.databaseUrl('gateway'),
      REDIS_URL: redisUrl,
      IDENTITY_URL: services.identity.url,
      IDENTITY_CLIENT_SECRET: 'demo-gateway-secret-change-me',
      // Short, so that with identity or the policy down a request soon finds nothing cached and is answered 503.
      INTROSPECTION_CACHE_SECONDS: String(GATEWAY_CACHE_MS / 1000),
      INTROSPECTION_NEGATIVE_CACHE_SECONDS: String(GATEWAY_CACHE_MS / 1000),
      POLICY_CACHE_TTL_MS: String(GATEWAY_CACHE_MS),
      POLICY_MODE: 'sidecar',
      POLICY_URL: services['policy-sidecar'].url,
      // One process, not a cluster: a SIGKILL takes the whole gateway down, and it saves CPU.
      WEB_CONCURRENCY: '1',
      HEALTH_PROBE_INTERVAL_MS: '500',
      // The guarantee under test (no answer without its audit event in Redis) is the hold's, which
      // is off by default; it holds only while Redis answers within the hold, and on a loaded
      // two-core machine a round trip can take longer than 10 ms. `AUDIT_HOLD_MS=0 npm run chaos
      // kill-gateway` shows what the hold prevents.
      AUDIT_HOLD_MS: process.env.AUDIT_HOLD_MS ?? '100',
      DISCOVERY_EVERY_MS: '0',
      LOG_LEVEL: 'warn',
    };
    const routesFile = join(options.logDir, 'routes.json');
    writeFileSync(routesFile, JSON.stringify(gatewayRoutes(upstream.url), null, 2));
    log('seeding identity, migrating the gateway and applying its routes…');
    await Promise.all([
      runCommand(['apps/identity/src/cli.ts', 'seed'], identityEnv),
      runCommand(['apps/gateway/src/cli.ts', 'apply', routesFile, '--activate'], gatewayEnv),
    ]);
    services.gateway = await Service.create({ name: 'gateway', entry: 'apps/gateway/src/main.ts', env: gatewayEnv }, options.logDir);
    await upstream.start();
    const all = services as Record<ServiceName, Service>;
    log(`starting identity, policy-sidecar, audit-writer and gateway (logs in ${options.logDir})…`);
    // All at once: the gateway needs only PostgreSQL and Redis to start, and is ready once identity and the policy answer.
    for (const s of Object.values(all)) s.start();
    // Generous: on a loaded two-core machine, four services compiling their TypeScript at once take minutes.
    await Promise.all(Object.values(all).map((s) => s.waitReady(300_000)));

    const creds = {
      customerToken: await token(all.identity, 'customer@acme.example', 'demo-customer-pass'),
      adminToken: await token(all.identity, 'admin@acme.example', 'demo-acme-admin-pass'),
      viewerToken: await token(all.identity, 'viewer@cloudstack.example', 'demo-viewer-pass'),
    };
    traffic = new Traffic(probes(creds), all);
    audit = new AuditStream(createAuditProducer({ connection: redisUrl }));
    traffic.start();

    const ctx: FaultContext = {
      infra,
      services: all,
      upstream,
      traffic,
      sessions: [
        { database: 'identity', applicationName: 'identity' },
        { database: 'audit', applicationName: 'audit-writer' },
        { database: 'gateway', applicationName: 'gateway' },
        // The route table's LISTEN connection: cut, it must reconnect and reload.
        { database: 'gateway', applicationName: 'gateway-route-table' },
      ],
    };
    const stored = async (label: string) =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE route_id = 'chaos' AND correlation_id LIKE ${`${label}:%`}`.execute(auditDb)).rows[0]!.n;
    const gatewayStored = async (ids: string[]) =>
      new Map(
        (await sql<{ id: string; n: number }>`SELECT correlation_id AS id, count(*)::int AS n FROM audit_events WHERE correlation_id = ANY(${ids}::text[]) GROUP BY 1`.execute(auditDb)).rows.map(
          (r) => [r.id, r.n],
        ),
      );
    const results: FaultResult[] = [];
    for (const [i, fault] of options.faults.entries()) {
      // Its own label per run: a fault may be named more than once.
      const label = `${i}.${fault.id}`;
      audit.label = label;
      await sleep(options.settleMs);
      const exitsBefore = new Map(Object.values(all).map((s) => [s, s.unexpectedExits.length]));
      log(`fault: ${fault.title}`);
      const startedAt = Date.now();
      traffic.upstreamFault = fault.upstream === true;
      await fault.inject(ctx);
      const injectedAt = Date.now();

      let recoveredAt: number | undefined;
      const deadline = startedAt + options.recoverTimeoutMs;
      try {
        await Promise.all(Object.values(all).map((s) => s.waitReady(Math.max(1, deadline - Date.now()))));
        while (Date.now() < deadline && !traffic.allOkSince(injectedAt)) await sleep(50);
        if (traffic.allOkSince(injectedAt)) recoveredAt = Date.now();
      } catch {
        // not recovered in time: reported below
      }
      const windowEnd = recoveredAt ?? Date.now();
      audit.label = `${label}-after`;
      // Requests still in flight finish within the route timeout; the ones after see a healthy upstream.
      await sleep(traffic.upstreamFault ? 1500 : 0);
      traffic.upstreamFault = false;

      // Exactly once: every event emitted while the fault lasted is stored, none twice.
      await audit.producer.flush();
      const emitted = audit.emitted.get(label) ?? 0;
      const auditDeadline = Date.now() + 60_000;
      let rows = await stored(label);
      while (rows < emitted && Date.now() < auditDeadline) {
        await sleep(200);
        rows = await stored(label).catch(() => rows);
      }
      const caughtUpMs = rows === emitted ? Date.now() - startedAt : null;

      const samples = traffic.between(startedAt - options.settleMs, windowEnd);
      const requests: Record<Outcome, number> = { ok: 0, degraded: 0, problem: 0, down: 0, bad: 0 };
      for (const s of samples) requests[s.outcome]++;
      const bad = samples.filter((s) => s.outcome === 'bad').map((s) => `${s.probe}: ${s.detail}`);
      const exits = Object.values(all).flatMap((s) => s.unexpectedExits.slice(exitsBefore.get(s) ?? 0));
      // Answered in the window counts, however early it started: on a loaded machine the request
      // answered just before a kill may have started before the settle time.
      const answeredInWindow = traffic.samples.filter((s) => s.startedAt + s.ms >= startedAt - options.settleMs && s.startedAt < windowEnd);
      const gatewayAudit = await gatewayAuditOf(answeredInWindow, gatewayStored, all.gateway, 60_000);
      const findings = fault.check?.(samples.filter((s) => s.startedAt >= startedAt), ctx) ?? [];
      const result: FaultResult = {
        id: fault.id,
        title: fault.title,
        recoverMs: recoveredAt === undefined ? null : recoveredAt - startedAt,
        requests,
        bad: [...new Set(bad)].slice(0, 5),
        audit: { emitted, stored: rows, caughtUpMs },
        gatewayAudit,
        findings,
        exits,
        passed:
          recoveredAt !== undefined &&
          bad.length === 0 &&
          exits.length === 0 &&
          rows === emitted &&
          gatewayAudit.lost === 0 &&
          gatewayAudit.duplicated === 0 &&
          findings.length === 0,
      };
      results.push(result);
      log(
        `  ${result.passed ? 'passed' : 'FAILED'}: recovered in ${result.recoverMs ?? '—'} ms, audit ${rows}/${emitted}, gateway audit ${gatewayAudit.stored}/${gatewayAudit.answered}`,
      );
    }
    return results;
  } finally {
    await traffic?.stop();
    await audit?.close().catch(() => undefined);
    await auditDb.destroy().catch(() => undefined);
    // The gateway first: it flushes its audit events while identity, the policy and Redis still run.
    await services.gateway?.stop();
    await Promise.all(Object.values(services).filter((s) => s !== services.gateway).map((s) => s.stop()));
    await upstream.stop();
    await infra.stop();
  }
}
