import type { Request, Response } from 'express';

/** The upstream health report (the JSON of GET /__gateway/health/upstreams) and its changes. */
export interface UpstreamFeed {
  report(): unknown;
  /** Calls `listener` after an upstream changes state; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export const KEEP_ALIVE_MS = 15_000;

/**
 * The event streams a process holds open, so shutdown can end them at once: an open console would
 * otherwise hold the drain until its deadline.
 */
export class EventStreams {
  private readonly open = new Set<() => void>();

  /** Registers a stream's end; returns the function that forgets it. */
  add(end: () => void): () => void {
    this.open.add(end);
    return () => void this.open.delete(end);
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const end of [...this.open]) end();
  }
}

/**
 * Server-sent events: `event: upstreams` with the report once on connect and after every change
 * (changes in one probe round coalesce into one event), and a comment every 15 s so proxies and
 * the browser keep the idle connection open. Everything is released when the client goes.
 */
export function streamUpstreams(feed: UpstreamFeed, req: Request, res: Response, options: { keepAliveMs?: number; streams?: EventStreams } = {}): void {
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  // Tells nginx-style proxies not to buffer the stream.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  req.socket.setNoDelay(true);

  const send = () => void res.write(`event: upstreams\ndata: ${JSON.stringify(feed.report())}\n\n`);
  let pending: NodeJS.Immediate | undefined;
  const changed = () => {
    pending ??= setImmediate(() => {
      pending = undefined;
      send();
    });
  };
  send();
  const unsubscribe = feed.onChange(changed);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
  let closed = false;
  const forget = options.streams?.add(() => res.end());
  const cleanup = () => {
    if (closed) return;
    closed = true;
    forget?.();
    unsubscribe();
    clearInterval(keepAlive);
    if (pending) clearImmediate(pending);
  };
  res.on('close', cleanup);
  req.on('close', cleanup);
}
