import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '@cloud-stack/service-kit';

export interface UpstreamState {
  readonly origin: string;
  readonly state: 'up' | 'down' | 'unknown';
  readonly since: string | null;
  readonly last_checked: string | null;
  readonly last_error: string | null;
  readonly consecutive_failures: number;
}

export interface UpstreamHealthOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Probed on each upstream's origin; any answer below 500 counts as up. */
  readonly path: string;
  /** Failures in a row before an upstream is marked down. */
  readonly failuresToDown?: number;
  readonly logger: Logger;
}

interface Entry {
  state: 'up' | 'down' | 'unknown';
  since: number | null;
  lastChecked: number | null;
  lastError: string | null;
  failures: number;
}

/**
 * Active health checks of every upstream origin on a timer, plus passive ones (a refused
 * connection counts as a failed probe). A request for an upstream marked down is answered 503 at
 * once instead of waiting for a timeout; the first successful probe brings it back.
 */
export class UpstreamHealth {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly failuresToDown: number;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: UpstreamHealthOptions) {
    this.failuresToDown = options.failuresToDown ?? 2;
  }

  /** Sets the origins to watch (from the live route table); forgets the rest. */
  track(urls: Iterable<string>): void {
    const origins = new Set([...urls].map((u) => new URL(u).origin));
    let changed = false;
    for (const o of origins) {
      if (this.entries.has(o)) continue;
      this.entries.set(o, { state: 'unknown', since: null, lastChecked: null, lastError: null, failures: 0 });
      changed = true;
    }
    for (const o of this.entries.keys()) {
      if (origins.has(o)) continue;
      this.entries.delete(o);
      changed = true;
    }
    if (changed) this.changed();
  }

  /**
   * Calls `listener` after an upstream changes state (unknown, up, down) or the set of watched
   * upstreams changes; not on every probe. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => void this.probeAll();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    tick();
  }

  isDown(origin: string): boolean {
    return this.entries.get(origin)?.state === 'down';
  }

  /** A request saw the upstream refuse a connection. */
  reportFailure(origin: string, error: string): void {
    const e = this.entries.get(origin);
    if (e) this.record(origin, e, error);
  }

  snapshot(): UpstreamState[] {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return [...this.entries].map(([origin, e]) => ({
      origin,
      state: e.state,
      since: iso(e.since),
      last_checked: iso(e.lastChecked),
      last_error: e.lastError,
      consecutive_failures: e.failures,
    }));
  }

  async probeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((o) => this.probe(o)));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.options.logger.warn({ err }, 'upstream health listener failed');
      }
    }
  }

  private record(origin: string, e: Entry, error: string | null): void {
    e.lastChecked = Date.now();
    e.lastError = error;
    if (error === null) {
      if (e.state !== 'up') {
        if (e.state === 'down') this.options.logger.info({ upstream: origin }, 'upstream is up again');
        e.state = 'up';
        e.since = e.lastChecked;
        e.failures = 0;
        this.changed();
        return;
      }
      e.failures = 0;
      return;
    }
    e.failures++;
    if (e.failures >= this.failuresToDown && e.state !== 'down') {
      this.options.logger.warn({ upstream: origin, error }, 'upstream marked down');
      e.state = 'down';
      e.since = e.lastChecked;
      this.changed();
    }
  }

  private probe(origin: string): Promise<void> {
    return new Promise((resolve) => {
      const url = new URL(this.options.path, origin);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let done = false;
      const finish = (error: string | null) => {
        if (done) return;
        done = true;
        const e = this.entries.get(origin);
        if (e) this.record(origin, e, error);
        resolve();
      };
      const req = send(url, { method: 'GET', timeout: this.options.timeoutMs, headers: { 'user-agent': 'cloud-stack-gateway-health' } }, (res) => {
        res.resume();
        finish((res.statusCode ?? 500) < 500 ? null : `answered ${res.statusCode}`);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', (err) => finish(err.message));
      req.end();
    });
  }
}
