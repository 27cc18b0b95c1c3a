import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient, MetricsRegistry } from '@cloud-stack/service-kit';
import { useRedisPrefix } from '@cloud-stack/test-kit';
import { quantileMs, redisTrafficStore, TrafficHistory } from '../src/index';
import { parsePrometheusText } from '../src/traffic/prometheus-text';

/** A registry with the gateway's traffic metrics, as apps/gateway registers them. */
function gatewayMetrics() {
  const registry = new MetricsRegistry();
  return {
    registry,
    requests: registry.counter('gateway_requests_total', 'Requests by route and status'),
    latency: registry.histogram('gateway_request_duration_seconds', 'Latency by route'),
    decisions: registry.counter('gateway_policy_decisions_total', 'Decisions'),
    limited: registry.counter('gateway_rate_limited_total', 'Refused by a rate limit'),
    dropped: registry.counter('audit_producer_events_dropped_total', 'Dropped audit events'),
  };
}

describe('traffic history', () => {
  it('keeps what the counters gained per step, oldest first, after a baseline', async () => {
    const m = gatewayMetrics();
    const history = new TrafficHistory({ metrics: m.registry });
    m.requests.inc({ route: 'before.baseline', status: '200' }, 7);
    await history.sample(new Date('2026-01-01T00:00:00Z'));
    expect(await history.report(15, new Date('2026-01-01T00:00:01Z'))).toEqual({ step_seconds: 5, points: [] });

    m.requests.inc({ route: 'agents.list', status: '200' }, 3);
    m.requests.inc({ route: 'agents.list', status: '403' });
    m.requests.inc({ route: 'agents.create', status: '429' }, 2);
    for (const s of [0.004, 0.004, 0.004, 0.2]) m.latency.observe(s, { route: 'agents.list' });
    m.decisions.inc({ result: 'allow', cache: 'miss' }, 3);
    m.decisions.inc({ result: 'allow', cache: 'hit' });
    m.decisions.inc({ result: 'deny', cache: 'miss' });
    m.decisions.inc({ result: 'unavailable', cache: 'miss' });
    m.limited.inc({ route: 'agents.create' }, 2);
    m.dropped.inc({ reason: 'buffer_full' });
    await history.sample(new Date('2026-01-01T00:00:05Z'));

    m.requests.inc({ route: 'agents.list', status: '200' });
    // A sampling a little late still closes the step ending at the nearest boundary.
    await history.sample(new Date('2026-01-01T00:00:10.300Z'));

    const { points } = await history.report(15, new Date('2026-01-01T00:00:11Z'));
    expect(points).toHaveLength(2);
    expect(points[0]).toEqual({
      at: '2026-01-01T00:00:05.000Z',
      requests: { 'agents.list': { '200': 3, '403': 1 }, 'agents.create': { '429': 2 } },
      latency_ms: { p50: expect.any(Number), p99: expect.any(Number) },
      decisions: { allow: 4, deny: 1 },
      rate_limited: 2,
      audit_dropped: 1,
    });
    // Three of four under 5 ms, one in the 100-250 ms bucket.
    expect(points[0]!.latency_ms.p50).toBeGreaterThan(2.5);
    expect(points[0]!.latency_ms.p50).toBeLessThanOrEqual(5);
    expect(points[0]!.latency_ms.p99).toBeGreaterThan(100);
    expect(points[0]!.latency_ms.p99).toBeLessThanOrEqual(250);
    expect(points[1]).toMatchObject({ at: '2026-01-01T00:00:10.000Z', requests: { 'agents.list': { '200': 1 } }, decisions: { allow: 0, deny: 0 }, rate_limited: 0, audit_dropped: 0 });
    // The second step observed no latency: no percentile rather than a made-up zero.
    expect(points[1]!.latency_ms).toEqual({ p50: null, p99: null });
  });

  it('answers only the last minutes asked for, and keeps at most an hour', async () => {
    const m = gatewayMetrics();
    const history = new TrafficHistory({ metrics: m.registry });
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i <= 800; i++) {
      m.requests.inc({ route: 'r', status: '200' }, i);
      await history.sample(new Date(start + i * 5000));
    }
    const now = new Date(start + 800 * 5000 + 1000);
    expect((await history.report(1, now)).points).toHaveLength(12);
    const hour = (await history.report(60, now)).points;
    expect(hour).toHaveLength(720);
    expect(hour[0]!.at).toBe(new Date(start + 81 * 5000).toISOString());
    expect(hour.at(-1)).toMatchObject({ at: new Date(start + 800 * 5000).toISOString(), requests: { r: { '200': 800 } } });
  });
});

describe('quantileMs', () => {
  it('interpolates within the bucket as histogram_quantile does', () => {
    const cumulative = new Map([
      [0.01, 50],
      [0.1, 100],
      [Infinity, 100],
    ]);
    expect(quantileMs(cumulative, 0.5)).toBe(10);
    expect(quantileMs(cumulative, 0.75)).toBe(55);
    expect(quantileMs(new Map([[Infinity, 0]]), 0.5)).toBeNull();
  });

  it('answers the last finite bound for observations past it', () => {
    expect(quantileMs(new Map([[0.5, 0], [Infinity, 4]]), 0.99)).toBe(500);
  });
});

describe('parsePrometheusText', () => {
  it('reads escaped label values and skips other families and comments', () => {
    const text = ['# HELP x y', 'gateway_requests_total{route="a\\"b",status="200"} 4', 'other_total 1', 'gateway_requests_total 2'].join('\n');
    expect(parsePrometheusText(text, new Set(['gateway_requests_total']))).toEqual([
      { name: 'gateway_requests_total', labels: { route: 'a"b', status: '200' }, value: 4 },
      { name: 'gateway_requests_total', labels: {}, value: 2 },
    ]);
  });
});

describe('traffic history shared in Redis', () => {
  const redisPrefix = useRedisPrefix('gw_traffic');
  const redis = createRedisClient(redisPrefix.url, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  afterAll(() => void redis.disconnect());

  it('sums the steps of every process (cluster workers, replicas), whichever one answers', async () => {
    const store = redisTrafficStore(redis, `${redisPrefix.prefix}:`);
    const workers = [gatewayMetrics(), gatewayMetrics()];
    const histories = workers.map((m) => new TrafficHistory({ metrics: m.registry, store }));
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (const h of histories) await h.sample(new Date(t0));
    workers[0]!.requests.inc({ route: 'agents.list', status: '200' }, 2);
    workers[1]!.requests.inc({ route: 'agents.list', status: '200' }, 3);
    workers[1]!.requests.inc({ route: 'agents.list', status: '500' });
    workers[0]!.latency.observe(0.003, { route: 'agents.list' });
    workers[1]!.latency.observe(0.003, { route: 'agents.list' });
    workers[0]!.decisions.inc({ result: 'deny', cache: 'miss' });
    await histories[0]!.sample(new Date(t0 + 5000));
    await histories[1]!.sample(new Date(t0 + 5040));

    const now = new Date(t0 + 6000);
    for (const h of histories) {
      const { points } = await h.report(15, now);
      expect(points).toHaveLength(1);
      expect(points[0]).toMatchObject({ at: '2026-01-01T00:00:05.000Z', requests: { 'agents.list': { '200': 5, '500': 1 } }, decisions: { allow: 0, deny: 1 } });
      expect(points[0]!.latency_ms.p50).toBeGreaterThan(2.5);
      expect(points[0]!.latency_ms.p50).toBeLessThanOrEqual(5);
    }
  });
});
