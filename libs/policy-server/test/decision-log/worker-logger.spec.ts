import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, MetricsRegistry } from '@cloud-stack/service-kit';
import { freePort } from '@cloud-stack/test-kit';
import { applyMaskRules, DecisionLogger, parseMaskRuleSet, type DecisionLogEntry } from '../../src/index';
import { startTestLogService, type TestLogService } from './log-service';

const logger = createLogger('policy-server-test', 'silent');

function entry(n: number, input: unknown = { n }): DecisionLogEntry {
  return {
    labels: { id: 't' },
    decision_id: `d${n}`,
    path: 'p',
    input,
    result: true,
    requested_by: '127.0.0.1:1',
    timestamp: '2026-12-02T10:00:00.000Z',
    metrics: {},
  };
}

/** A decision logger shipping from its worker thread to an OPA log service at `url`. */
function workerLogger(url: string, extra: { bufferSize?: number; mask?: string[]; metrics?: MetricsRegistry } = {}): DecisionLogger {
  return new DecisionLogger({
    logger,
    ...extra,
    shipping: { kind: 'opa-http', options: { url, minDelaySeconds: 3600, maxDelaySeconds: 3600, closeTimeoutMs: 5_000 } },
    closeTimeoutMs: 5_000,
  });
}

/** Threads of this process at the given nice value (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
function threadsAtNice(nice: number): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) === nice) n++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return n;
}

// A worker thread loads the library from its TypeScript sources here (tsx): seconds on a busy machine.
describe('DecisionLogger shipping from a worker thread', { timeout: 60_000 }, () => {
  const open: Array<DecisionLogger | TestLogService> = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it('masks before the hand-over and ships every entry; the counts reach the request thread’s metrics', async () => {
    const logs = await startTestLogService();
    open.push(logs);
    const metrics = new MetricsRegistry();
    const dl = workerLogger(logs.url, { mask: ['/input/secret'], metrics });
    open.push(dl);
    dl.log(entry(1, { secret: 's', keep: 1 }));
    dl.log(entry(2));
    await dl.flush();

    expect(logs.events().map((e) => e.decision_id)).toEqual(['d1', 'd2']);
    expect(logs.events()[0]).toMatchObject({ input: { keep: 1 }, erased: ['/input/secret'] });
    expect(logs.events()[0]!.input).not.toHaveProperty('secret');
    expect(dl.shipped).toBe(2);
    expect(metrics.render()).toMatch(/decision_logs_shipped_total 2/);
  });

  it.runIf(process.platform === 'linux')('runs its worker at a lower priority (nice 5 unless told), so the request thread never waits behind it', async () => {
    const logs = await startTestLogService();
    open.push(logs);
    const before = { 5: threadsAtNice(5), 12: threadsAtNice(12) };
    const dl = workerLogger(logs.url);
    const told = new DecisionLogger({ logger, shipping: { kind: 'opa-http', options: { url: logs.url, minDelaySeconds: 3600, maxDelaySeconds: 3600 } }, workerNice: 12 });
    open.push(dl, told);
    dl.log(entry(1));
    told.log(entry(2));
    await Promise.all([dl.flush(), told.flush()]);
    expect(threadsAtNice(5)).toBe(before[5] + 1);
    expect(threadsAtNice(12)).toBe(before[12] + 1);
    expect(threadsAtNice(0)).toBeGreaterThan(0);
  });

  it('counts an entry that is not JSON as failed, and ships the others of its turn', async () => {
    const logs = await startTestLogService();
    open.push(logs);
    const dl = workerLogger(logs.url);
    open.push(dl);
    dl.log(entry(1, { big: 1n }));
    dl.log(entry(2));
    await dl.flush();
    expect(logs.events().map((e) => e.decision_id)).toEqual(['d2']);
    expect(dl.failed).toBe(1);
  });

  it('applies the mask policy’s step before DECISION_LOG_MASK; a dropped entry is counted', async () => {
    const logs = await startTestLogService();
    open.push(logs);
    const dl = workerLogger(logs.url, { mask: ['/input/secret'] });
    open.push(dl);
    const rules = parseMaskRuleSet([{ op: 'upsert', path: '/input/card', value: '****' }]);
    const policy = (e: DecisionLogEntry) => applyMaskRules(rules, e);
    dl.log(entry(1, { secret: 's', card: '4111' }), policy);
    dl.log(entry(2), () => undefined);
    await dl.flush();

    expect(logs.events()).toHaveLength(1);
    expect(logs.events()[0]).toMatchObject({ decision_id: 'd1', input: { card: '****' }, erased: ['/input/secret'], masked: ['/input/card'] });
    expect(dl.dropped).toBe(1);
  });

  it('bounds what it holds while the sink cannot ship: beyond the buffer, entries are dropped and counted', async () => {
    const port = await freePort();
    const metrics = new MetricsRegistry();
    const dl = workerLogger(`http://127.0.0.1:${port}`, { bufferSize: 3, metrics });
    open.push(dl);
    for (let i = 0; i < 5; i++) dl.log(entry(i));
    expect(dl.dropped).toBe(2);
    expect(metrics.render()).toMatch(/decision_logs_dropped_total 2/);

    // The held entries are delivered once the service is up.
    const logs = await startTestLogService(port);
    open.splice(0, 0, logs);
    await vi.waitFor(
      async () => {
        await dl.flush();
        expect(logs.events().map((e) => e.decision_id)).toEqual(['d0', 'd1', 'd2']);
      },
      { timeout: 45_000, interval: 50 },
    );
  });

  it('close() ships what is still on the request thread, then ends the worker', async () => {
    const logs = await startTestLogService();
    open.push(logs);
    const dl = workerLogger(logs.url);
    for (let i = 0; i < 50; i++) dl.log(entry(i));
    await dl.close();
    expect(logs.events()).toHaveLength(50);
    expect(dl.shipped).toBe(50);
    dl.log(entry(51));
    expect(dl.dropped).toBe(1);
  });
});
