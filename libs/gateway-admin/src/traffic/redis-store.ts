import type { RedisClient } from '@cloud-stack/service-kit';
import { TRAFFIC_MAX_MINUTES, type Totals, type TrafficStore } from './traffic-history';

const TTL_SECONDS = TRAFFIC_MAX_MINUTES * 60 + 120;

// One hash per step; fields: r:<route>\t<status>, l:<le>, and the plain counts.
const REQUEST = 'r:';
const LATENCY = 'l:';
const COUNTS = { allow: 'allow', deny: 'deny', rateLimited: 'rate_limited', auditDropped: 'audit_dropped' } as const;

/**
 * The steps of every gateway process summed in Redis: one hash per 5-second step, each process
 * adding what its counters gained (HINCRBY), expiring after the hour the console can show.
 * One key per step keeps a write in one slot on a Redis Cluster.
 */
export function redisTrafficStore(redis: RedisClient, prefix: string): TrafficStore {
  const key = (index: number) => `${prefix}traffic:${index}`;
  return {
    async add(index, step) {
      const k = key(index);
      const tx = redis.multi();
      for (const [route, n] of step.requests) tx.hincrby(k, `${REQUEST}${route.replace('\n', '\t')}`, n);
      for (const [le, n] of step.buckets) tx.hincrby(k, `${LATENCY}${le === Infinity ? '+Inf' : le}`, n);
      for (const [field, name] of Object.entries(COUNTS)) tx.hincrby(k, name, step[field as keyof typeof COUNTS]);
      tx.expire(k, TTL_SECONDS);
      const results = await tx.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('traffic step was not written');
    },
    async read(from, to) {
      const indexes = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
      // Separate commands (auto-pipelined by the client): on a cluster the steps live in different slots.
      const hashes = await Promise.all(indexes.map((i) => redis.hgetall(key(i))));
      const steps = new Map<number, Totals>();
      hashes.forEach((hash, i) => {
        if (Object.keys(hash).length === 0) return;
        const step: Totals = { requests: new Map(), buckets: new Map(), allow: 0, deny: 0, rateLimited: 0, auditDropped: 0 };
        for (const [field, raw] of Object.entries(hash)) {
          const n = Number(raw);
          if (field.startsWith(REQUEST)) step.requests.set(field.slice(REQUEST.length).replace('\t', '\n'), n);
          else if (field.startsWith(LATENCY)) {
            const le = field.slice(LATENCY.length);
            step.buckets.set(le === '+Inf' ? Infinity : Number(le), n);
          } else {
            for (const [name, f] of Object.entries(COUNTS)) if (f === field) step[name as keyof typeof COUNTS] = n;
          }
        }
        steps.set(indexes[i]!, step);
      });
      return steps;
    },
  };
}
