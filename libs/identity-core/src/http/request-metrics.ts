import type { RequestHandler } from 'express';
import type { MetricsRegistry } from '@cloud-stack/service-kit';

export interface RequestDurations {
  /** Records one answered request that started at `started` (process.hrtime.bigint()). */
  observe(started: bigint, status: number): void;
  /** The same for Express routes, measured until the response finishes. */
  readonly middleware: RequestHandler;
}

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'].map((status) => ({ status }));

/** `http_request_duration_seconds` by status class, as service-kit's createApp records it. */
export function requestDurations(metrics: MetricsRegistry): RequestDurations {
  const histogram = metrics.histogram('http_request_duration_seconds', 'HTTP request duration by status class');
  const observe = (started: bigint, status: number) =>
    histogram.observe(Number(process.hrtime.bigint() - started) / 1e9, CLASSES[Math.floor(status / 100) - 1] ?? CLASSES[4]);
  return {
    observe,
    middleware: (_req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => observe(started, res.statusCode));
      next();
    },
  };
}
