import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { startOtlpReceiver, type OtlpReceiver } from './index';

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

/** Sends one parent/child pair through the real exporter, as a service's SDK would. */
async function exportSpans(receiver: OtlpReceiver, serviceName: string, compression: 'none' | 'gzip'): Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${receiver.url}/v1/traces`, compression: compression as ExporterConfig['compression'] });
  const provider = new tracing.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('spec');
  const parent = tracer.startSpan('GET /things', { kind: SpanKind.SERVER, attributes: { 'http.response.status_code': 200, 'url.path': '/things', retried: false, tags: ['a', 'b'] } });
  const child = tracer.startSpan('pg.query:SELECT', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), parent));
  child.end();
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
}

describe('startOtlpReceiver', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it('receives JSON spans from the OTLP/HTTP exporter, flattened with service name, kind, parent and attributes', async () => {
    await exportSpans(receiver, 'plain-service', 'none');
    const spans = await receiver.waitFor((all) => all.filter((s) => s.serviceName === 'plain-service').length === 2);
    const server = spans.find((s) => s.name === 'GET /things')!;
    const client = spans.find((s) => s.name === 'pg.query:SELECT')!;
    expect(server).toMatchObject({ serviceName: 'plain-service', kind: 2, attributes: { 'http.response.status_code': 200, 'url.path': '/things', retried: false, tags: ['a', 'b'] } });
    expect(server.parentSpanId).toBeUndefined();
    expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(client).toMatchObject({ kind: 3, traceId: server.traceId, parentSpanId: server.spanId });
  });

  it('accepts gzip-compressed requests', async () => {
    await exportSpans(receiver, 'gzip-service', 'gzip');
    const spans = await receiver.waitFor((all) => all.some((s) => s.serviceName === 'gzip-service' && s.name === 'GET /things'));
    expect(spans.filter((s) => s.serviceName === 'gzip-service').map((s) => s.name).sort()).toEqual(['GET /things', 'pg.query:SELECT']);
  });

  it('refuses protobuf with 415 and other paths with 404, keeping no spans from them', async () => {
    const before = receiver.spans().length;
    const proto = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([1, 2, 3]) });
    expect(proto.status).toBe(415);
    const metrics = await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(metrics.status).toBe(404);
    const broken = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(broken.status).toBe(400);
    expect(receiver.spans()).toHaveLength(before);
  });

  it('waitFor rejects naming what arrived when the condition never holds', async () => {
    await expect(receiver.waitFor((all) => all.some((s) => s.name === 'never'), 50)).rejects.toThrow(/condition not met after 50 ms; \d+ span\(s\) received/);
  });
});
