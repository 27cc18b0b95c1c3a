import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { opaJson } from '../opa/json';
import type { DecisionLogEntry } from './types';

const gzip = promisify(gzipCallback);

/**
 * A remote decision-log service in OPA's protocol. The names follow OPA's configuration so an OPA
 * config file maps onto them one to one: `services[_].url` / `headers` / `credentials.bearer`,
 * `decision_logs.resource` and `decision_logs.reporting.*`.
 */
export interface OpaHttpSinkOptions {
  /** The service's base URL (`services[_].url`). */
  readonly url: string;
  /** Path under the URL that receives uploads (`decision_logs.resource`, default `/logs`). */
  readonly resource?: string;
  /** Sent with every upload (`services[_].headers`; a bearer credential is `Authorization: Bearer <token>`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Uploads happen every random delay between these (`reporting.min_delay_seconds`/`max_delay_seconds`, OPA's defaults 300/600). */
  readonly minDelaySeconds?: number;
  readonly maxDelaySeconds?: number;
  /** Encoded events held for upload at most (`reporting.buffer_size_limit_bytes`); beyond it the oldest are dropped and counted. Default 16 MiB. */
  readonly bufferSizeLimitBytes?: number;
  /** Largest gzipped body of one upload (`reporting.upload_size_limit_bytes`, default 32768); an event that alone exceeds it is dropped and counted. */
  readonly uploadSizeLimitBytes?: number;
  /** One upload's time limit (OPA's `response_header_timeout_seconds`, default 10 s). */
  readonly requestTimeoutMs?: number;
  /** `close()` keeps retrying for at most this long, then counts what is left as dropped. */
  readonly closeTimeoutMs?: number;
  /** Called when an upload fails (it is retried with backoff; nothing is lost until the buffer overflows). */
  readonly onUploadError?: (err: Error) => void;
}

export interface OpaHttpSinkStats {
  /** Events the service acknowledged (2xx). */
  readonly shipped: number;
  /** Events dropped: the buffer was full, an event was larger than an upload, or close() ran out of time. */
  readonly dropped: number;
  /** Events held for upload, in flight included. */
  readonly buffered: number;
}

export interface OpaHttpSink {
  /** Encodes and buffers the entries; never blocks on the network. */
  add(entries: readonly DecisionLogEntry[]): void;
  /** One upload pass of everything buffered now; a failure leaves the rest for the retry timer. */
  flush(): Promise<void>;
  /** Uploads everything, retrying with backoff within `closeTimeoutMs`; stops the timer. */
  close(): Promise<void>;
  stats(): OpaHttpSinkStats;
}

interface Encoded {
  readonly json: string;
  readonly bytes: number;
}

/** OPA's retry backoff: 100 ms doubling per failed attempt, capped at the maximum delay, ±20 % jitter. */
const MIN_RETRY_DELAY_MS = 100;
function backoffMs(retry: number, maxMs: number): number {
  const base = Math.min(maxMs, MIN_RETRY_DELAY_MS * 2 ** Math.min(retry, 30));
  return base * (0.8 + Math.random() * 0.4);
}

class UploadError extends Error {}

/**
 * Ships decision logs as OPA does to its decision-log service: `POST <url><resource>` with a
 * gzipped JSON array of events (`Content-Encoding: gzip`), periodically at a random delay between
 * the minimum and maximum; a failed upload (non-2xx, or the service unreachable) keeps its events
 * and is retried with exponential backoff. The buffer is bounded in bytes: when it is full the
 * oldest events are dropped and counted, as OPA's size buffer does.
 */
export function opaHttpSink(options: OpaHttpSinkOptions): OpaHttpSink {
  const endpoint = new URL(`${options.url.replace(/\/+$/, '')}${options.resource ?? '/logs'}`).toString();
  const minDelayMs = (options.minDelaySeconds ?? 300) * 1000;
  const maxDelayMs = Math.max(minDelayMs, (options.maxDelaySeconds ?? 600) * 1000);
  const bufferLimit = options.bufferSizeLimitBytes ?? 16 * 1024 * 1024;
  const uploadLimit = options.uploadSizeLimitBytes ?? 32_768;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const headers = { ...options.headers, 'content-type': 'application/json', 'content-encoding': 'gzip' };

  let buffer: Encoded[] = [];
  /** Bytes in `buffer` plus the chunk being uploaded: the bound covers both. */
  let heldBytes = 0;
  let inFlight: Encoded[] = [];
  let shipped = 0;
  let dropped = 0;
  let retry = 0;
  /** Last observed uncompressed/compressed ratio: sizes the next chunk before gzipping it. */
  let ratio = 8;
  let timer: NodeJS.Timeout | undefined;
  let uploading: Promise<boolean> | undefined;
  let closed = false;
  /** While closing, no upload may outlast the close budget. */
  let closeDeadline = Infinity;

  const schedule = (ms: number): void => {
    clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(() => void upload(), ms);
    timer.unref();
  };
  const nextPeriodic = () => minDelayMs + Math.random() * (maxDelayMs - minDelayMs);

  /** Takes events off the front while their gzipped array stays within the upload limit. */
  async function nextChunk(): Promise<{ events: Encoded[]; body: Buffer } | undefined> {
    while (buffer.length > 0) {
      let n = 0;
      let raw = 2;
      const budget = uploadLimit * ratio;
      while (n < buffer.length && (n === 0 || raw + buffer[n]!.bytes + 1 <= budget)) raw += buffer[n++]!.bytes + 1;
      for (;;) {
        const events = buffer.slice(0, n);
        const text = `[${events.map((e) => e.json).join(',')}]`;
        const body = await gzip(text);
        if (body.length <= uploadLimit) {
          ratio = Math.max(1, text.length / body.length);
          buffer.splice(0, n);
          return { events, body };
        }
        if (n === 1) {
          // One event larger than an upload can never be sent (OPA drops it too).
          buffer.shift();
          heldBytes -= events[0]!.bytes;
          dropped++;
          break;
        }
        n = Math.ceil(n / 2);
      }
    }
    return undefined;
  }

  async function post(body: Buffer): Promise<void> {
    let res: Response;
    try {
      res = await fetch(endpoint, { method: 'POST', headers, body: new Uint8Array(body), signal: AbortSignal.timeout(Math.max(1, Math.min(requestTimeoutMs, closeDeadline - Date.now()))) });
    } catch (err) {
      throw new UploadError(`decision log upload to ${endpoint} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new UploadError(`decision log upload to ${endpoint} answered ${res.status}`);
  }

  /** Uploads chunk after chunk; true when the buffer emptied, false after a failure (its chunk goes back in front). */
  function upload(): Promise<boolean> {
    uploading ??= (async () => {
      try {
        for (;;) {
          const chunk = await nextChunk();
          if (!chunk) break;
          inFlight = chunk.events;
          try {
            await post(chunk.body);
          } catch (err) {
            buffer = inFlight.concat(buffer);
            inFlight = [];
            options.onUploadError?.(err instanceof Error ? err : new Error(String(err)));
            schedule(backoffMs(retry++, maxDelayMs));
            return false;
          }
          shipped += inFlight.length;
          for (const e of inFlight) heldBytes -= e.bytes;
          inFlight = [];
          retry = 0;
        }
        schedule(nextPeriodic());
        return true;
      } finally {
        uploading = undefined;
      }
    })();
    return uploading;
  }

  schedule(nextPeriodic());

  return {
    add(entries) {
      for (const entry of entries) {
        const json = opaJson(entry).trimEnd();
        const bytes = Buffer.byteLength(json);
        // The oldest events make room (OPA's size buffer); the chunk in flight cannot.
        while (heldBytes + bytes > bufferLimit && buffer.length > 0) {
          heldBytes -= buffer.shift()!.bytes;
          dropped++;
        }
        if (heldBytes + bytes > bufferLimit) {
          dropped++;
          continue;
        }
        buffer.push({ json, bytes });
        heldBytes += bytes;
      }
    },
    async flush() {
      // An upload already running may have taken only part of the buffer: run one more pass after it.
      if (uploading) await uploading;
      await upload();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      closeDeadline = Date.now() + closeTimeoutMs;
      const deadline = closeDeadline;
      let attempt = 0;
      if (uploading) await uploading;
      while (buffer.length > 0 && Date.now() < deadline) {
        if (await upload()) break;
        clearTimeout(timer);
        const wait = Math.min(backoffMs(attempt++, maxDelayMs), deadline - Date.now());
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      dropped += buffer.length;
      buffer = [];
      heldBytes = 0;
    },
    stats: () => ({ shipped, dropped, buffered: buffer.length + inFlight.length }),
  };
}
