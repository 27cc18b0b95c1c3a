import { Redis } from 'ioredis';
import { terminateBackends } from '@cloud-stack/test-kit';
import type { Infra } from './infra';
import type { Service, ServiceName } from './stack';
import { GATEWAY_CACHE_MS, ROUTE_TIMEOUT_MS, type Sample, type Traffic } from './traffic';
import type { ChaosUpstream } from './upstream';

export interface FaultContext {
  readonly infra: Infra;
  readonly services: Readonly<Record<ServiceName, Service>>;
  /** The product behind the gateway. */
  readonly upstream: ChaosUpstream;
  readonly traffic: Traffic;
  /** The PostgreSQL sessions of the services (database and application_name), the ones a cut hits. */
  readonly sessions: ReadonlyArray<{ readonly database: string; readonly applicationName: string }>;
}

/** One fault: `inject` does the damage and undoes what the suite itself must undo (a restart). */
export interface Fault {
  readonly id: string;
  readonly title: string;
  inject(ctx: FaultContext): Promise<void>;
  /** An upstream fault: the gateway's 502 and 504 problem+json count as clean answers until recovery. */
  readonly upstream?: boolean;
  /** What this fault must show in the requests made while it lasted; one line per thing missing. */
  check?(samples: readonly Sample[], ctx: FaultContext): string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request that started this soon after a cache ran out may still have been past its check. */
const CACHE_SLACK_MS = 500;
/** A 503 for an upstream already marked down is answered without trying it: this fast. */
const FAST_MS = 250;
/**
 * timeout_ms bounds the wait for the upstream only; before it come introspection and the policy
 * decision, which on a loaded two-core machine take a few hundred ms: a 504 may come this much later.
 */
const TIMEOUT_SLACK_MS = 1000;

/**
 * `afterAnswer`: the SIGKILL comes the moment a client has read a whole answer from the service,
 * the worst moment for what the service still had to do for that request (the gateway: store the
 * request's audit event, which must already be in Redis then).
 */
function killAndRestart(name: ServiceName, afterAnswer = false): Fault {
  return {
    id: `kill-${name}`,
    title: `SIGKILL ${name}${afterAnswer ? ' just after an answer' : ''}, then restart`,
    async inject({ services, traffic }) {
      if (afterAnswer) await traffic.nextAnswer(name);
      await services[name].kill('SIGKILL');
      services[name].start();
    },
  };
}

/** SIGKILL, `ms` with the service gone (so the gateway's caches run out), then a start. */
function downFor(name: ServiceName, ms: number, check: (samples: readonly Sample[], ctx: FaultContext) => string[]): Fault {
  return {
    id: `${name}-down`,
    title: `${name} down ${ms / 1000} s (gateway sees it)`,
    async inject({ services }) {
      await services[name].kill('SIGKILL');
      await sleep(ms);
      services[name].start();
    },
    check,
  };
}

const viaGateway = (samples: readonly Sample[]) => samples.filter((s) => s.correlationId !== undefined);
const count = (samples: readonly Sample[], keep: (s: Sample) => boolean) => samples.filter(keep).length;

/**
 * What the gateway answered, other than 503 (or, when `degradedAllowed`, a fail-open route's
 * degraded 200), to requests started while `name` was down and nothing could be cached any more
 * (the gateway reuses its answers for GATEWAY_CACHE_MS): an answer there would have skipped the check.
 */
function answeredWhileUncached(samples: readonly Sample[], ctx: FaultContext, name: ServiceName, degradedAllowed: boolean): string[] {
  const service = ctx.services[name];
  const from = service.lastKilledAt + GATEWAY_CACHE_MS + CACHE_SLACK_MS;
  const uncached = viaGateway(samples).filter((s) => s.startedAt >= from && s.startedAt < service.lastStartedAt);
  if (uncached.length === 0) return [`no gateway request started while ${name} was down and nothing was cached`];
  return uncached
    .filter((s) => s.status !== undefined && s.status !== 503 && !(degradedAllowed && s.outcome === 'degraded'))
    .slice(0, 3)
    .map((s) => `${s.probe}: ${s.status} to a request started ${s.startedAt - service.lastKilledAt} ms after ${name} went down (nothing cached): expected 503`);
}

/** Every fault the suite knows, in the order `npm run chaos` injects them. */
export const FAULTS: readonly Fault[] = [
  killAndRestart('identity'),
  killAndRestart('policy-sidecar'),
  killAndRestart('audit-writer'),
  killAndRestart('gateway', true),
  downFor('identity', 4000, (samples, ctx) => {
    // No token can be checked: every route must answer 503, the denied and the fail-open one too
    // (authentication never fails open).
    return [
      ...(count(viaGateway(samples), (s) => s.status === 503) > 0 ? [] : ['the gateway never answered 503 + Retry-After while identity was down']),
      ...answeredWhileUncached(samples, ctx, 'identity', false),
    ];
  }),
  downFor('policy-sidecar', 3000, (samples, ctx) => {
    // The fail-closed routes must answer 503; the fail-open one 200 marked degraded, never plain.
    return [
      ...(count(samples, (s) => s.probe === 'gateway: fail-closed route' && s.status === 503) > 0 ? [] : ['the fail-closed route never answered 503 + Retry-After while the policy was down']),
      ...(count(samples, (s) => s.outcome === 'degraded') > 0 ? [] : ['the fail-open route never answered 200 marked degraded while the policy was down']),
      ...answeredWhileUncached(samples, ctx, 'policy-sidecar', true),
    ];
  }),
  {
    id: 'upstream-down',
    title: 'upstream down 3 s (refuses connections)',
    upstream: true,
    async inject({ upstream }) {
      await upstream.stop();
      await sleep(3000);
      await upstream.start();
    },
    check(samples) {
      const gw = viaGateway(samples);
      const slow503 = gw.filter((s) => s.status === 503 && s.ms > FAST_MS);
      // Refused connections are 502 until the health checks mark the upstream down (two failures,
      // probes every 500 ms here). On a loaded machine the probes can get there before any request
      // does, so a 502 is not required here; apps/gateway's upstreams test pins it down.
      return [
        ...(count(gw, (s) => s.status === 503) > 0 ? [] : ['no 503 once the upstream was marked down']),
        ...slow503.slice(0, 3).map((s) => `a 503 for a marked-down upstream took ${s.ms} ms (more than ${FAST_MS})`),
      ];
    },
  },
  {
    id: 'upstream-slow',
    title: `upstream slow 4 s (answers after 3 s, routes allow ${ROUTE_TIMEOUT_MS} ms)`,
    upstream: true,
    async inject({ upstream }) {
      upstream.delayMs = 3000;
      await sleep(4000);
      upstream.delayMs = 0;
    },
    check(samples) {
      const gw = viaGateway(samples);
      const late = gw.filter((s) => s.status === 504 && s.ms > ROUTE_TIMEOUT_MS + TIMEOUT_SLACK_MS);
      return [
        ...(count(gw, (s) => s.status === 504) > 0 ? [] : ['no 504 while the upstream was slower than the route allows']),
        ...late.slice(0, 3).map((s) => `a 504 took ${s.ms} ms (the route allows ${ROUTE_TIMEOUT_MS})`),
      ];
    },
  },
  {
    id: 'pg-terminate',
    title: 'PostgreSQL: connections terminated mid-transaction',
    async inject({ infra, sessions }) {
      // Several rounds under traffic, so some land inside transactions and under running statements.
      for (let round = 0; round < 5; round++) {
        for (const filter of sessions) await terminateBackends(infra.postgres.url, filter);
        await sleep(200);
      }
    },
  },
  {
    id: 'pg-restart',
    title: 'PostgreSQL: full stop, 2 s, start',
    async inject({ infra }) {
      await infra.postgres.halt();
      await sleep(2000);
      await infra.postgres.resume();
    },
  },
  {
    id: 'redis-pause',
    title: 'Redis: clients paused for 3 s',
    async inject({ infra }) {
      const admin = new Redis(infra.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await admin.connect();
      await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
      admin.disconnect();
      await sleep(3000);
    },
  },
  {
    id: 'redis-restart',
    title: 'Redis (AOF on): full stop, 1 s, start',
    async inject({ infra }) {
      await infra.redis.halt();
      await sleep(1000);
      await infra.redis.resume();
    },
  },
];
