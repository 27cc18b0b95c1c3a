import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import express from 'express';
import { EventStreams, streamUpstreams, type UpstreamFeed } from '../src/index';

// A feed the test changes by hand: the gateway's UpstreamHealth as the stream sees it.
let state = 'up';
const listeners = new Set<() => void>();
const feed: UpstreamFeed = {
  report: () => ({ status: state === 'down' ? 'degraded' : 'ok', upstreams: [{ origin: 'http://agents.test', state }] }),
  onChange(listener) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
};
const change = (next: string) => {
  state = next;
  for (const l of listeners) l();
};

const streams = new EventStreams();
let server: ReturnType<ReturnType<typeof express>['listen']>;
let base = '';
beforeAll(async () => {
  const app = express();
  app.get('/stream', (req, res) => streamUpstreams(feed, req, res, { keepAliveMs: 50, streams }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function open() {
  const controller = new AbortController();
  const res = await fetch(`${base}/stream`, { signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let ended = false;
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { res, text: () => text, ended: () => ended, close: () => controller.abort() };
}

describe('the upstream health event stream', () => {
  it('sends the report on connect and on each change, comments while idle, and lets go when the client leaves', async () => {
    const stream = await open();
    expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.res.headers.get('cache-control')).toBe('no-store, no-transform');
    await vi.waitFor(() => expect(stream.text()).toContain('event: upstreams\ndata: {"status":"ok"'));
    await vi.waitFor(() => expect(stream.text()).toContain(': keep-alive\n\n'));
    expect(listeners.size).toBe(1);

    change('down');
    change('down'); // two changes in one turn: one event
    await vi.waitFor(() => expect(stream.text()).toContain('data: {"status":"degraded"'));
    expect(stream.text().split('"status":"degraded"')).toHaveLength(2);

    stream.close();
    await vi.waitFor(() => expect(listeners.size).toBe(0));
    expect(streams.size).toBe(0);
  });

  it('ends every open stream at shutdown', async () => {
    const stream = await open();
    await vi.waitFor(() => expect(streams.size).toBe(1));
    streams.endAll();
    await vi.waitFor(() => expect(stream.ended()).toBe(true));
    await vi.waitFor(() => expect(listeners.size).toBe(0));
  });
});
