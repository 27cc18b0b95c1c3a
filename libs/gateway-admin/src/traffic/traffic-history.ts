import { parsePrometheusText, type PromSample } from './prometheus-text';

/** One step of traffic: what the counters and the latency histogram gained over it. */
export interface TrafficPoint {
  /** End of the step. */
  readonly at: string;
  /** Requests answered, by route id and status. */
  readonly requests: Record<string, Record<string, number>>;
  readonly latency_ms: { readonly p50: number | null; readonly p99: number | null };
  readonly decisions: { readonly allow: number; readonly deny: number };
  readonly rate_limited: number;
  readonly audit_dropped: number;
}

export interface TrafficReport {
  readonly step_seconds: number;
  readonly points: readonly TrafficPoint[];
}

/** The metric families sampled, as the gateway registers them. */
export const TRAFFIC_METRICS = {
  requests: 'gateway_requests_total',
  latencyBucket: 'gateway_request_duration_seconds_bucket',
  decisions: 'gateway_policy_decisions_total',
  rateLimited: 'gateway_rate_limited_total',
  auditDropped: 'audit_producer_events_dropped_total',
} as const;
const NAMES = new Set<string>(Object.values(TRAFFIC_METRICS));

export const TRAFFIC_STEP_SECONDS = 5;
export const TRAFFIC_MAX_MINUTES = 60;

/**
 * Counts at one sampling (cumulative) or over one step (what they gained): keyed so that two
 * samplings subtract and the steps of several processes add up.
 */
export interface Totals {
  readonly requests: Map<string, number>; // `${route}\n${status}`
  readonly buckets: Map<number, number>; // le (seconds) → cumulative count, summed over routes
  allow: number;
  deny: number;
  rateLimited: number;
  auditDropped: number;
}

function totalsOf(samples: readonly PromSample[]): Totals {
  const t: Totals = { requests: new Map(), buckets: new Map(), allow: 0, deny: 0, rateLimited: 0, auditDropped: 0 };
  for (const s of samples) {
    switch (s.name) {
      case TRAFFIC_METRICS.requests: {
        const key = `${s.labels.route ?? ''}\n${s.labels.status ?? ''}`;
        t.requests.set(key, (t.requests.get(key) ?? 0) + s.value);
        break;
      }
      case TRAFFIC_METRICS.latencyBucket: {
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        if (!Number.isNaN(le)) t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value);
        break;
      }
      case TRAFFIC_METRICS.decisions:
        if (s.labels.result === 'allow') t.allow += s.value;
        else if (s.labels.result === 'deny') t.deny += s.value;
        break;
      case TRAFFIC_METRICS.rateLimited:
        t.rateLimited += s.value;
        break;
      case TRAFFIC_METRICS.auditDropped:
        t.auditDropped += s.value;
        break;
    }
  }
  return t;
}

/** Counters only grow; a smaller value means the series restarted, so it all counts as new. */
const delta = (now: number, before: number | undefined) => (before === undefined || now < before ? now : now - before);

/**
 * The q-quantile (in ms) of a cumulative histogram's deltas, interpolated within its bucket as
 * Prometheus' histogram_quantile does; null with no observations. Past the last finite bucket
 * the answer is that bucket's bound.
 */
export function quantileMs(cumulative: ReadonlyMap<number, number>, q: number): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? (bounds.length ? cumulative.get(bounds[bounds.length - 1]!)! : 0);
  if (!total) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const upper of bounds) {
    const count = cumulative.get(upper)!;
    if (count >= rank) {
      if (upper === Infinity) return lower * 1000;
      const within = count - below;
      const share = within > 0 ? (rank - below) / within : 1;
      return Math.round((lower + (upper - lower) * share) * 1000 * 1000) / 1000;
    }
    lower = upper;
    below = count;
  }
  return lower * 1000;
}

/** What the counters gained between two samplings. */
function stepBetween(now: Totals, before: Totals): Totals {
  const requests = new Map<string, number>();
  for (const [key, value] of now.requests) {
    const d = delta(value, before.requests.get(key));
    if (d > 0) requests.set(key, d);
  }
  const buckets = new Map<number, number>();
  for (const [le, value] of now.buckets) buckets.set(le, delta(value, before.buckets.get(le)));
  return {
    requests,
    buckets,
    allow: delta(now.allow, before.allow),
    deny: delta(now.deny, before.deny),
    rateLimited: delta(now.rateLimited, before.rateLimited),
    auditDropped: delta(now.auditDropped, before.auditDropped),
  };
}

/** One step as the API shows it. */
export function pointOf(at: Date, step: Totals): TrafficPoint {
  const requests: Record<string, Record<string, number>> = {};
  for (const [key, value] of step.requests) {
    if (value <= 0) continue;
    const [route, status] = key.split('\n') as [string, string];
    (requests[route] ??= {})[status] = value;
  }
  return {
    at: at.toISOString(),
    requests,
    latency_ms: { p50: quantileMs(step.buckets, 0.5), p99: quantileMs(step.buckets, 0.99) },
    decisions: { allow: step.allow, deny: step.deny },
    rate_limited: step.rateLimited,
    audit_dropped: step.auditDropped,
  };
}

/**
 * Where every process of the gateway (cluster workers, replicas) adds its steps, so that any of
 * them answers with the sum. Steps are numbered from the epoch (`at` = (index + 1) × step).
 */
export interface TrafficStore {
  add(index: number, step: Totals): Promise<void>;
  /** The steps `from..to` (inclusive) some process recorded, by index. */
  read(from: number, to: number): Promise<Map<number, Totals>>;
}

export interface TrafficHistoryOptions {
  /** The registry /metrics renders (its text is what is sampled). */
  readonly metrics: { render(): string };
  /** Shared steps of every gateway process; without it (or while it fails) a process shows its own. */
  readonly store?: TrafficStore;
  readonly logger?: { warn(obj: object, msg: string): void };
}

const STEP_MS = TRAFFIC_STEP_SECONDS * 1000;
const CAPACITY = (TRAFFIC_MAX_MINUTES * 60_000) / STEP_MS;

/**
 * The last hour of the gateway's traffic in 5-second steps. At every step boundary (wall clock, so
 * the processes of one gateway sample together) the registry's counters and latency histogram are
 * read, and what they gained since the previous sampling is kept in a ring buffer and added to the
 * shared store. Reports come from the store (every process's sum), else from the ring (this
 * process's own share).
 */
export class TrafficHistory {
  private readonly ring: Array<{ index: number; step: Totals }> = [];
  private last: Totals | undefined;
  private timer: NodeJS.Timeout | undefined;
  private storeFailing = false;

  constructor(private readonly options: TrafficHistoryOptions) {}

  /** Takes the baseline now and samples at every step boundary from then on. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    const next = () => {
      this.timer = setTimeout(() => {
        void this.sample();
        next();
      }, STEP_MS - (Date.now() % STEP_MS));
      this.timer.unref();
    };
    next();
  }

  /** Reads the registry; every sampling after the first records the step ending at the nearest boundary. */
  async sample(at = new Date()): Promise<void> {
    const now = totalsOf(parsePrometheusText(this.options.metrics.render(), NAMES));
    const before = this.last;
    this.last = now;
    if (!before) return;
    const index = Math.round(at.getTime() / STEP_MS) - 1;
    const step = stepBetween(now, before);
    this.ring.push({ index, step });
    if (this.ring.length > CAPACITY) this.ring.shift();
    if (!this.options.store) return;
    try {
      await this.options.store.add(index, step);
      this.storeFailing = false;
    } catch (err) {
      if (!this.storeFailing) this.options.logger?.warn({ err }, 'traffic history: the shared store failed; this process reports its own traffic');
      this.storeFailing = true;
    }
  }

  /** The steps of the last `minutes`, oldest first. */
  async report(minutes: number, now = new Date()): Promise<TrafficReport> {
    const count = Math.ceil((minutes * 60_000) / STEP_MS);
    const lastIndex = Math.round(now.getTime() / STEP_MS) - 1;
    const from = lastIndex - count + 1;
    let steps: Array<{ index: number; step: Totals }> = this.ring.filter((s) => s.index >= from && s.index <= lastIndex);
    if (this.options.store && !this.storeFailing) {
      try {
        const shared = await this.options.store.read(from, lastIndex);
        steps = [...shared].map(([index, step]) => ({ index, step })).sort((a, b) => a.index - b.index);
      } catch (err) {
        this.options.logger?.warn({ err }, 'traffic history: the shared store cannot be read; answering with this process\'s own traffic');
      }
    }
    return { step_seconds: TRAFFIC_STEP_SECONDS, points: steps.map(({ index, step }) => pointOf(new Date((index + 1) * STEP_MS), step)) };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
