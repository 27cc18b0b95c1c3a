import { describe, expect, it } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry } from './index';

describe('startTelemetry', () => {
  it('registers a tracer and W3C propagation without an exporter configured', async () => {
    const telemetry = startTelemetry('spec', {});
    try {
      const span = trace.getTracer('spec').startSpan('work');
      const traceId = span.spanContext().traceId;
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(traceId).not.toBe('0'.repeat(32));

      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      expect(carrier.traceparent).toBe(`00-${traceId}-${span.spanContext().spanId}-01`);
      span.end();
    } finally {
      await telemetry.shutdown();
    }
  });
});
