/** Minimal Prometheus text-format metrics: counters, gauges and histograms with labels. */
type Labels = Record<string, string | number>;

const NEEDS_ESCAPE = /[\\"\n]/;

function labelValue(value: string | number): string {
  const text = String(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : text;
}

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  let key = '{';
  for (let i = 0; i < names.length; i++) key += `${i ? ',' : ''}${names[i]}="${labelValue(labels[names[i]!]!)}"`;
  return `${key}}`;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** One series of the counter, its label key made once: for hot paths that count the same labels again and again. */
  labels(labels: Labels): { inc(by?: number): void };
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
  /** One series of the histogram, its label key made once (see Counter.labels). */
  labels(labels: Labels): { observe(value: number): void };
}

interface Metric {
  render(): string;
}

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    const values = new Map<string, number>();
    this.add(name, () => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${[...values].map(([k, v]) => `${name}${k} ${v}`).join('\n')}`);
    const add = (key: string, by: number) => values.set(key, (values.get(key) ?? 0) + by);
    return {
      inc: (labels, by = 1) => add(labelKey(labels), by),
      labels: (labels) => {
        const key = labelKey(labels);
        return { inc: (by = 1) => add(key, by) };
      },
    };
  }

  gauge(name: string, help: string): Gauge {
    const values = new Map<string, number>();
    this.add(name, () => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${[...values].map(([k, v]) => `${name}${k} ${v}`).join('\n')}`);
    return { set: (value, labels) => values.set(labelKey(labels), value) };
  }

  histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Histogram {
    const series = new Map<string, { counts: number[]; sum: number; count: number; labels: Labels | undefined }>();
    this.add(name, () => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
      for (const s of series.values()) {
        buckets.forEach((b, i) => lines.push(`${name}_bucket${labelKey({ ...s.labels, le: b })} ${s.counts[i]}`));
        lines.push(`${name}_bucket${labelKey({ ...s.labels, le: '+Inf' })} ${s.count}`);
        lines.push(`${name}_sum${labelKey(s.labels)} ${s.sum}`, `${name}_count${labelKey(s.labels)} ${s.count}`);
      }
      return lines.join('\n');
    });
    const seriesOf = (labels: Labels | undefined) => {
      const key = labelKey(labels);
      let s = series.get(key);
      if (!s) series.set(key, (s = { counts: buckets.map(() => 0), sum: 0, count: 0, labels }));
      return s;
    };
    const observe = (s: ReturnType<typeof seriesOf>, value: number) => {
      for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]!) s.counts[i]!++;
      s.sum += value;
      s.count++;
    };
    return {
      observe: (value, labels) => observe(seriesOf(labels), value),
      labels: (labels) => {
        const s = seriesOf(labels);
        return { observe: (value) => observe(s, value) };
      },
    };
  }

  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }

  private add(name: string, render: () => string): void {
    if (this.metrics.has(name)) throw new TypeError(`metric ${name} is already registered`);
    this.metrics.set(name, { render });
  }
}
