/** Minimal Prometheus text-format metrics: counters, gauges and histograms with labels. */
type Labels = Record<string, string | number>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
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
    return { inc: (labels, by = 1) => values.set(labelKey(labels), (values.get(labelKey(labels)) ?? 0) + by) };
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
    return {
      observe: (value, labels) => {
        const key = labelKey(labels);
        let s = series.get(key);
        if (!s) series.set(key, (s = { counts: buckets.map(() => 0), sum: 0, count: 0, labels }));
        buckets.forEach((b, i) => {
          if (value <= b) s.counts[i]!++;
        });
        s.sum += value;
        s.count++;
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
