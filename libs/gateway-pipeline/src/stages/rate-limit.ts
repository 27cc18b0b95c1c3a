import type { RedisClient } from '@cloud-stack/service-kit';
import { HttpProblem, type Counter } from '@cloud-stack/service-kit';
import type { GatewayContext } from '../context';
import type { Stage } from '../stage';

/**
 * GCRA (the generic cell rate algorithm: a sliding window without counters) for up to two limits
 * at once, atomically in one round trip, taking up to ARGV[1] cells (a lease) in one step.
 * KEYS: one theoretical-arrival-time key per limit. ARGV: wanted cells, then (limit, period ms)
 * pairs. Time is Redis' own, so every replica shares one clock.
 * Returns {cells taken (0 = refused), remaining, reset ms, retry-after ms, tightest limit}.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local take = tonumber(ARGV[1])
local tats = {}
local retry = 0
for i = 1, n do
  local limit = tonumber(ARGV[i * 2])
  local period = tonumber(ARGV[i * 2 + 1])
  local interval = period / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local room = math.floor((now + period - tat) / interval)
  if room < take then take = room end
  if room < 1 then
    local wait = tat + interval - period - now
    if wait > retry then retry = wait end
  end
end
if take < 0 then take = 0 end
local remaining = -1
local reset = 0
local which = 1
for i = 1, n do
  local limit = tonumber(ARGV[i * 2])
  local period = tonumber(ARGV[i * 2 + 1])
  local interval = period / limit
  local tat = tats[i] + take * interval
  if take > 0 then redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now) + 1000) end
  local left = math.floor((now + period - tat) / interval)
  if left < 0 then left = 0 end
  if remaining < 0 or left < remaining then
    remaining = left
    reset = math.ceil(tat - now)
    which = i
  end
end
return {take, remaining, reset, math.ceil(retry), which}
`;

type GcraResult = [taken: number, remaining: number, resetMs: number, retryMs: number, which: number];
type GcraRedis = RedisClient & {
  gatewayGcra(...args: Array<string | number>): Promise<GcraResult>;
};

export interface RateLimitDeps {
  readonly redis: RedisClient;
  /** Key prefix for this deployment's rate-limit state. */
  readonly prefix: string;
  readonly limited?: Counter;
  readonly retryAfterSeconds?: number;
  /** How long leased cells may be spent locally before they are dropped (default 1 s). */
  readonly leaseMs?: number;
}

/** Cells taken from Redis ahead of time by this process for one subject on one route. */
interface Lease {
  cells: number;
  remaining: number;
  resetMs: number;
  which: number;
  expiresAt: number;
  /** Redis refused: no cell frees up before this time, so refuse here until then. */
  refusedUntil: number;
}

const MAX_LEASES = 100_000;

/**
 * Cells one Redis round trip takes: 1% of the tightest limit, at most 50. A small limit (under 200
 * a window) is always decided in Redis, request by request; a large one is spent from a local lease
 * so that a busy subject costs one round trip per lease, not per request. Leased cells are already
 * counted in Redis, so the limit is never exceeded; a subject spread over several workers can at
 * worst be refused the cells other workers hold for at most a lease's lifetime. A refusal is
 * remembered until Redis said the next cell frees up, so a subject hammering a closed limit costs
 * no round trips either.
 */
export function leaseSize(limits: readonly number[]): number {
  return Math.max(1, Math.min(50, Math.floor(Math.min(...limits) / 100)));
}

/**
 * Per-route limits per minute and per hour, keyed by subject (client IP when anonymous), with
 * RateLimit-Limit/Remaining/Reset and RateLimit-Policy headers and 429 + Retry-After when over.
 * Redis unreachable: the route's `failure.rate_limit` decides (open lets the request through).
 */
export function rateLimitStage(deps: RateLimitDeps): Stage {
  const redis = deps.redis as GcraRedis;
  if (typeof redis.gatewayGcra !== 'function') redis.defineCommand('gatewayGcra', { lua: GCRA });
  const leaseMs = deps.leaseMs ?? 1000;
  const leases = new Map<string, Lease>();
  const inflight = new Map<string, Promise<Lease>>();
  return {
    id: 'rate_limit',
    build(route) {
      const limits: Array<{ limit: number; periodMs: number; suffix: string; window: number }> = [];
      if (route.rate_limit.per_minute) limits.push({ limit: route.rate_limit.per_minute, periodMs: 60_000, suffix: 'm', window: 60 });
      if (route.rate_limit.per_hour) limits.push({ limit: route.rate_limit.per_hour, periodMs: 3_600_000, suffix: 'h', window: 3600 });
      if (limits.length === 0) return undefined;
      const want = leaseSize(limits.map((l) => l.limit));
      const argv = [want, ...limits.flatMap((l) => [l.limit, l.periodMs])];
      const policyHeader = limits.map((l) => `${l.limit};w=${l.window}`).join(', ');
      // The hash tag {route:subject} puts a subject's minute and hour keys in one Redis Cluster
      // slot (one script touches both) while spreading subjects across the cluster.
      const base = `${deps.prefix}rl:{${route.id}:`;

      const answer = (res: { setHeader(name: string, value: string): unknown }, lease: Lease) => {
        res.setHeader('RateLimit-Policy', policyHeader);
        res.setHeader('RateLimit-Limit', String(limits[lease.which - 1]?.limit ?? limits[0]!.limit));
        res.setHeader('RateLimit-Remaining', String(lease.remaining + lease.cells));
        res.setHeader('RateLimit-Reset', String(Math.ceil(lease.resetMs / 1000)));
      };

      const refuse = (ctx: GatewayContext, lease: Lease, waitMs: number): never => {
        answer(ctx.res, lease);
        deps.limited?.inc({ route: route.id });
        ctx.errorCode = 'rate_limited';
        throw new HttpProblem(429, 'rate limit exceeded for this route', { headers: { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
      };

      /**
       * One GCRA round trip for `key`, its cells kept as the key's lease (or its refusal
       * remembered). When the round trip takes more than one cell, requests that miss while it is
       * on its way share it instead of each taking a lease of its own: at ten connections a
       * subject's misses came in herds, and each took 50 cells that the next one's lease then
       * replaced (one round trip per ~9 requests in bench:gateway, and cells spent in Redis that
       * no request used).
       */
      const fetchLease = (key: string): Promise<Lease> => {
        const shared = inflight.get(key);
        if (shared) return shared;
        const now = Date.now();
        const fetched = redis.gatewayGcra(limits.length, ...limits.map((l) => `${key}:${l.suffix}`), ...argv).then(([taken, remaining, resetMs, retryMs, which]) => {
          const lease: Lease = { cells: Math.max(0, taken), remaining, resetMs, which, expiresAt: now + leaseMs, refusedUntil: taken < 1 ? now + retryMs : 0 };
          // Kept when others can spend it (cells beyond the fetching request's own) or to remember a refusal.
          if (taken !== 1) {
            if (leases.size >= MAX_LEASES && !leases.has(key)) leases.delete(leases.keys().next().value!);
            leases.set(key, lease);
          } else {
            leases.delete(key);
          }
          return lease;
        });
        if (want > 1) {
          inflight.set(key, fetched);
          const done = () => void inflight.delete(key);
          fetched.then(done, done);
        }
        return fetched;
      };

      return async (ctx) => {
        const who = ctx.subject.sub ? `s:${ctx.subject.sub}` : `ip:${ctx.ip ?? 'unknown'}`;
        const key = `${base}${who}}`;
        for (;;) {
          const now = Date.now();
          const held = leases.get(key);
          if (held && held.refusedUntil > now) return refuse(ctx, held, held.refusedUntil - now);
          if (held && held.cells > 0 && held.expiresAt > now) {
            held.cells--;
            answer(ctx.res, held);
            return;
          }
          let lease: Lease;
          try {
            lease = await fetchLease(key);
          } catch {
            if (route.failure.rate_limit === 'open') {
              ctx.res.setHeader('X-RateLimit-Enforcement', 'degraded');
              return;
            }
            ctx.errorCode = 'rate_limit_unavailable';
            throw new HttpProblem(503, 'the rate limiter cannot be reached; try again later', {
              headers: { 'Retry-After': String(deps.retryAfterSeconds ?? 5) },
            });
          }
          if (lease.refusedUntil !== 0) return refuse(ctx, lease, Math.max(0, lease.refusedUntil - Date.now()));
          if (lease.cells > 0) {
            lease.cells--;
            answer(ctx.res, lease);
            return;
          }
          // The requests that shared this round trip ahead of this one spent every cell: go again.
        }
      };
    },
  };
}
