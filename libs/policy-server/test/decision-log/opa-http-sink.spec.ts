import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '@cloud-stack/test-kit';
import { opaHttpSink, type DecisionLogEntry, type OpaHttpSink, type OpaHttpSinkOptions } from '../../src/index';
import { startTestLogService, type TestLogService } from './log-service';

function entry(n: number, extra: Record<string, unknown> = {}): DecisionLogEntry {
  return {
    labels: { id: 'test', app: 'policy-sidecar', version: '0.1.0' },
    decision_id: `d${n}`,
    path: 'gateway/authz/decision',
    input: { n, ...extra },
    result: { allow: n % 2 === 0 },
    requested_by: '127.0.0.1:1',
    timestamp: '2026-12-02T10:00:00.000Z',
    metrics: { timer_server_handler_ns: 1000 + n },
  };
}

/** A payload gzip cannot shrink much, so upload limits are reached with few events. */
function noise(n: number): string {
  let s = '';
  let x = n * 7919 + 1;
  for (let i = 0; i < 400; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += x.toString(36);
  }
  return s;
}

const ids = (events: readonly Record<string, unknown>[]) => events.map((e) => e.decision_id);

describe('opaHttpSink (OPA decision-log protocol)', () => {
  const open: Array<OpaHttpSink | TestLogService> = [];
  // Periodic uploads are out of the way (an hour): each test triggers uploads itself, or waits for retries.
  const sink = (options: OpaHttpSinkOptions) => {
    const s = opaHttpSink({ minDelaySeconds: 3600, maxDelaySeconds: 3600, closeTimeoutMs: 200, ...options });
    open.push(s);
    return s;
  };
  const service = async (port?: number) => {
    const s = await startTestLogService(port);
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it('POSTs a gzipped JSON array of the events to <url>/logs, with the service headers', async () => {
    const logs = await service();
    const s = sink({ url: `${logs.url}/`, headers: { authorization: 'Bearer t0ken' } });
    s.add([entry(1), entry(2)]);
    await s.flush();

    expect(logs.uploads).toHaveLength(1);
    const [upload] = logs.uploads;
    expect(upload!.path).toBe('/logs');
    expect(upload!.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer t0ken' });
    expect(upload!.events).toEqual([JSON.parse(JSON.stringify(entry(1))), JSON.parse(JSON.stringify(entry(2)))]);
    expect(s.stats()).toEqual({ shipped: 2, dropped: 0, buffered: 0 });
  });

  it('uploads to the configured resource path', async () => {
    const logs = await service();
    const s = sink({ url: logs.url, resource: '/v1/decisions/partition-a' });
    s.add([entry(1)]);
    await s.flush();
    expect(logs.uploads.map((u) => u.path)).toEqual(['/v1/decisions/partition-a']);
  });

  it('splits the buffer into uploads within upload_size_limit_bytes, in order, each event once', async () => {
    const logs = await service();
    const s = sink({ url: logs.url, uploadSizeLimitBytes: 4096 });
    const entries = Array.from({ length: 30 }, (_, i) => entry(i, { noise: noise(i) }));
    s.add(entries);
    await s.flush();

    expect(logs.uploads.length).toBeGreaterThan(1);
    for (const u of logs.uploads) expect(u.bytes).toBeLessThanOrEqual(4096);
    expect(ids(logs.events())).toEqual(entries.map((e) => e.decision_id));
    expect(s.stats().shipped).toBe(30);
  });

  it('drops and counts an event that alone exceeds an upload, and ships the rest', async () => {
    const logs = await service();
    const s = sink({ url: logs.url, uploadSizeLimitBytes: 1024 });
    s.add([entry(1), entry(2, { noise: noise(2) }), entry(3)]);
    await s.flush();
    expect(ids(logs.events())).toEqual(['d1', 'd3']);
    expect(s.stats()).toMatchObject({ shipped: 2, dropped: 1 });
  });

  it('retries with backoff when the service answers 5xx, without losing or repeating events', async () => {
    const logs = await service();
    logs.failNext(3, 503);
    const s = sink({ url: logs.url });
    s.add([entry(1), entry(2)]);
    await s.flush();
    expect(logs.uploads).toHaveLength(0);

    // No further flush: the backoff timer retries on its own.
    await vi.waitFor(() => expect(s.stats().shipped).toBe(2), { timeout: 15_000, interval: 20 });
    expect(logs.uploads).toHaveLength(1);
    expect(logs.refused).toBe(3);
    expect(ids(logs.events())).toEqual(['d1', 'd2']);
    expect(s.stats()).toEqual({ shipped: 2, dropped: 0, buffered: 0 });
  });

  it('keeps the events while the service is down and delivers them once it is back', async () => {
    const port = await freePort();
    const s = sink({ url: `http://127.0.0.1:${port}` });
    s.add([entry(1)]);
    await s.flush();
    s.add([entry(2)]);
    expect(s.stats()).toEqual({ shipped: 0, dropped: 0, buffered: 2 });

    const logs = await service(port);
    await vi.waitFor(() => expect(s.stats().shipped).toBe(2), { timeout: 15_000, interval: 20 });
    expect(ids(logs.events())).toEqual(['d1', 'd2']);
    expect(s.stats()).toEqual({ shipped: 2, dropped: 0, buffered: 0 });
  });

  it('drops the oldest events and counts them when the buffer is full', async () => {
    const port = await freePort();
    const oneEvent = Buffer.byteLength(JSON.stringify(entry(0)));
    const s = sink({ url: `http://127.0.0.1:${port}`, bufferSizeLimitBytes: oneEvent * 3 + 10 });
    s.add(Array.from({ length: 10 }, (_, i) => entry(i)));
    expect(s.stats()).toEqual({ shipped: 0, dropped: 7, buffered: 3 });

    const logs = await service(port);
    await s.flush();
    expect(ids(logs.events())).toEqual(['d7', 'd8', 'd9']);
  });

  it('close() retries within its budget, then counts what it could not deliver as dropped', async () => {
    const port = await freePort();
    const s = opaHttpSink({ url: `http://127.0.0.1:${port}`, minDelaySeconds: 3600, maxDelaySeconds: 3600, closeTimeoutMs: 300 });
    s.add([entry(1), entry(2)]);
    await s.close();
    expect(s.stats()).toEqual({ shipped: 0, dropped: 2, buffered: 0 });
  });
});
