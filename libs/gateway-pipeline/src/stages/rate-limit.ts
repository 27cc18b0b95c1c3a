import type { Redis } from 'ioredis';
import { HttpProblem, type Counter } from '@cloud-stack/service-kit';
import type { Stage } from '../stage';

/**
 * GCRA (the generic cell rate algorithm: a sliding window without counters) for up to two limits
 * at once, atomically in one round trip. KEYS: one theoretical-arrival-time key per limit.
 * ARGV: pairs of (limit, period ms). Time is Redis' own, so every replica shares one clock.
 * Returns {allowed, remaining, reset ms, retry-after ms, which limit} for the tightest limit.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local tats = {}
local allowed = 1
local retry = 0
for i = 1, n do
  local limit = tonumber(ARGV[i * 2 - 1])
  local period = tonumber(ARGV[i * 2])
  local interval = period / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - period
  if now < allow_at then
    allowed = 0
    if allow_at - now > retry then retry = allow_at - now end
  end
  tats[i] = new_tat
end
local remaining = -1
local reset = 0
local which = 1
for i = 1, n do
  local limit = tonumber(ARGV[i * 2 - 1])
  local period = tonumber(ARGV[i * 2])
  local interval = period / limit
  local tat = tats[i]
  if allowed == 1 then
    redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
  else
    tat = tat - interval
  end
  local left = math.floor((period - (tat - now)) / interval)
  if left < 0 then left = 0 end
  if remaining < 0 or left < remaining then
    remaining = left
    reset = math.ceil(tat - now)
    which = i
  end
end
return {allowed, remaining, reset, math.ceil(retry), which}
`;

type GcraResult = [allowed: number, remaining: number, resetMs: number, retryMs: number, which: number];
interface GcraRedis extends Redis {
  gatewayGcra(...args: Array<string | number>): Promise<GcraResult>;
}

export interface RateLimitDeps {
  readonly redis: Redis;
  /** Key prefix for this deployment's rate-limit state. */
  readonly prefix: string;
  readonly limited?: Counter;
  readonly retryAfterSeconds?: number;
}

/**
 * Per-route limits per minute and per hour, keyed by subject (client IP when anonymous), with
 * RateLimit-Limit/Remaining/Reset and RateLimit-Policy headers and 429 + Retry-After when over.
 * Redis unreachable: the route's `failure.rate_limit` decides (open lets the request through).
 */
export function rateLimitStage(deps: RateLimitDeps): Stage {
  const redis = deps.redis as GcraRedis;
  if (typeof redis.gatewayGcra !== 'function') redis.defineCommand('gatewayGcra', { lua: GCRA });
  return {
    id: 'rate_limit',
    build(route) {
      const limits: Array<{ limit: number; periodMs: number; suffix: string; window: number }> = [];
      if (route.rate_limit.per_minute) limits.push({ limit: route.rate_limit.per_minute, periodMs: 60_000, suffix: 'm', window: 60 });
      if (route.rate_limit.per_hour) limits.push({ limit: route.rate_limit.per_hour, periodMs: 3_600_000, suffix: 'h', window: 3600 });
      if (limits.length === 0) return undefined;
      const argv = limits.flatMap((l) => [l.limit, l.periodMs]);
      const policyHeader = limits.map((l) => `${l.limit};w=${l.window}`).join(', ');
      const base = `${deps.prefix}rl:${route.id}:`;
      return async (ctx) => {
        const who = ctx.subject.sub ? `s:${ctx.subject.sub}` : `ip:${ctx.ip ?? 'unknown'}`;
        let result: GcraResult;
        try {
          result = await redis.gatewayGcra(limits.length, ...limits.map((l) => `${base}${who}:${l.suffix}`), ...argv);
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
        const [allowed, remaining, resetMs, retryMs, which] = result;
        const res = ctx.res;
        res.setHeader('RateLimit-Policy', policyHeader);
        res.setHeader('RateLimit-Limit', String(limits[which - 1]?.limit ?? limits[0]!.limit));
        res.setHeader('RateLimit-Remaining', String(remaining));
        res.setHeader('RateLimit-Reset', String(Math.ceil(resetMs / 1000)));
        if (allowed !== 1) {
          deps.limited?.inc({ route: route.id });
          ctx.errorCode = 'rate_limited';
          throw new HttpProblem(429, 'rate limit exceeded for this route', { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryMs / 1000))) } });
        }
      };
    },
  };
}
