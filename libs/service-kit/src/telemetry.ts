import { register } from 'node:module';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

let expressHookRegistered = false;

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK: W3C trace-context propagation always (so trace ids reach logs and
 * queue jobs), span export over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * Call before anything loads express, pg or ioredis: import this module alone statically
 * (`@cloud-stack/service-kit/telemetry`) and everything else dynamically after the call.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env, options: { onlyWhenExporting?: boolean } = {}): Telemetry {
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  // A service that carries trace context itself (the gateway) need not pay for spans nobody collects.
  if (options.onlyWhenExporting && !exporting) return { shutdown: async () => undefined };
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    textMapPropagator: new W3CTraceContextPropagator(),
    // Without an exporter spans are still created, so trace ids flow into logs and queue jobs.
    spanProcessors: [exporting ? new tracing.BatchSpanProcessor(new OTLPTraceExporter()) : new tracing.NoopSpanProcessor()],
    // Metrics are served at /metrics, logs go to stdout. Left to itself the SDK would also export
    // both over OTLP to localhost:4318, and its shutdown would then wait on an unreachable
    // collector (seconds a SIGTERM budget does not have). Only an explicit setting turns them on.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation(),
      new ExpressInstrumentation(),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
  // pg and ioredis are patched as they load, whether required or imported; express imported from
  // ESM is not (no express spans, no http.route without this), so it takes the ESM loader hook,
  // limited to express so that no other module pays for being wrapped. Once per process: hooks chain.
  if (!expressHookRegistered) register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['express'] } });
  expressHookRegistered = true;
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
