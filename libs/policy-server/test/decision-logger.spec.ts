import { describe, expect, it } from 'vitest';
import { createLogger, MetricsRegistry } from '@cloud-stack/service-kit';
import { DecisionLogger, type DecisionLogEntry, type DecisionLogSink } from '../src/index';

const logger = createLogger('policy-server-test', 'silent');

function entry(n: number, input: unknown = { n }): DecisionLogEntry {
  return {
    labels: { id: 't' },
    decision_id: `d${n}`,
    path: 'p',
    input,
    result: true,
    requested_by: '127.0.0.1:1',
    timestamp: new Date().toISOString(),
    metrics: {},
  };
}

/** A sink that holds every batch until released: stands in for a slow queue. */
function gatedSink() {
  const batches: DecisionLogEntry[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: DecisionLogSink = {
    send: async (entries) => {
      await gate;
      batches.push([...entries]);
    },
    close: async () => undefined,
  };
  return { sink, batches, release };
}

describe('DecisionLogger', () => {
  it('ships full batches and masks entries on the way out', async () => {
    const { sink, batches, release } = gatedSink();
    const dl = new DecisionLogger({ sink, logger, batchSize: 2, flushIntervalMs: 10_000, mask: ['/input/secret'] });
    dl.log(entry(1, { secret: 's', keep: 1 }));
    dl.log(entry(2));
    dl.log(entry(3));
    release();
    await dl.flush();
    expect(batches.map((b) => b.map((e) => e.decision_id))).toEqual([['d1', 'd2'], ['d3']]);
    expect(batches[0]![0]).toMatchObject({ input: { keep: 1 }, erased: ['/input/secret'] });
    expect(dl.shipped).toBe(3);
  });

  it('ships one batch per turn of the event loop, so decisions are answered between batches', async () => {
    const sent: string[][] = [];
    const sink: DecisionLogSink = { send: async (entries) => void sent.push(entries.map((e) => e.decision_id)), close: async () => undefined };
    const dl = new DecisionLogger({ sink, logger, batchSize: 2, flushIntervalMs: 10_000 });
    for (let i = 1; i <= 5; i++) dl.log(entry(i));
    await new Promise<void>((r) => setImmediate(r));
    expect(sent).toEqual([['d1', 'd2']]);
    await new Promise<void>((r) => setImmediate(r));
    expect(sent).toEqual([['d1', 'd2'], ['d3', 'd4']]);
    // The partial batch waits for the interval, or for flush().
    await new Promise<void>((r) => setImmediate(r));
    expect(sent).toHaveLength(2);
    await dl.flush();
    expect(sent).toEqual([['d1', 'd2'], ['d3', 'd4'], ['d5']]);
  });

  it('ships a gathered batch in slices, one per turn, without waiting for the interval', async () => {
    const sent: number[] = [];
    const sink: DecisionLogSink = { send: async (entries) => void sent.push(entries.length), close: async () => undefined };
    const dl = new DecisionLogger({ sink, logger, batchSize: 5, sliceSize: 2, flushIntervalMs: 10_000 });
    for (let i = 1; i <= 6; i++) dl.log(entry(i));
    for (let turn = 0; turn < 4; turn++) await new Promise<void>((r) => setImmediate(r));
    // The batch of 5 went out as 2 + 2 + 1; the sixth entry waits for the next batch or the interval.
    expect(sent).toEqual([2, 2, 1]);
    await dl.flush();
    expect(sent).toEqual([2, 2, 1, 1]);
  });

  it('drops and counts entries beyond the buffer instead of waiting', async () => {
    const { sink, release } = gatedSink();
    const metrics = new MetricsRegistry();
    const dl = new DecisionLogger({ sink, logger, metrics, bufferSize: 3, batchSize: 100, flushIntervalMs: 10_000 });
    for (let i = 0; i < 10; i++) dl.log(entry(i));
    expect(dl.dropped).toBe(7);
    expect(metrics.render()).toMatch(/decision_logs_dropped_total 7/);
    release();
    await dl.close();
    expect(dl.shipped).toBe(3);
  });

  it('counts a failed batch and keeps going', async () => {
    let calls = 0;
    const sink: DecisionLogSink = {
      send: async () => {
        if (calls++ === 0) throw new Error('queue down');
      },
      close: async () => undefined,
    };
    const dl = new DecisionLogger({ sink, logger, batchSize: 1 });
    dl.log(entry(1));
    dl.log(entry(2));
    await dl.flush();
    expect(dl.failed).toBe(1);
    expect(dl.shipped).toBe(1);
  });
});
