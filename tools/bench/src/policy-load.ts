import { Worker } from 'node:worker_threads';

export interface LoadFigure {
  readonly name: string;
  readonly connections: number;
  readonly requests: number;
  readonly rps: number;
  /** Latencies in microseconds. */
  readonly p50_us: number;
  readonly p99_us: number;
  readonly non2xx: number;
}

export interface LoadOptions {
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  /** Extra request headers (an Authorization header, say). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly requests: number;
  readonly warmup: number;
}

// The client runs in a worker thread so the server has the main thread's event loop to itself.
// Each connection is one keep-alive socket that writes a prebuilt request and sends the next one
// when the response is complete (Content-Length or chunked): like wrk or autocannon, it spends
// microseconds per request, so the latencies measured are the server's and the loopback's, not
// node:http's client machinery (which adds ~60 µs per request on this machine).
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { url, method, body, headers, connections, requests, warmup } = workerData;
const target = new URL(url);
const port = Number(target.port);
const head = method + ' ' + target.pathname + target.search + ' HTTP/1.1\\r\\nHost: ' + target.host + '\\r\\nConnection: keep-alive\\r\\n' +
  Object.entries(headers || {}).map(([k, v]) => k + ': ' + v + '\\r\\n').join('') +
  (body ? 'Content-Type: application/json\\r\\nContent-Length: ' + Buffer.byteLength(body) + '\\r\\n' : '') + '\\r\\n';
const request = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body || '', 'utf8')]);
const CONTENT_LENGTH = /\\r\\ncontent-length: *(\\d+)/i;
const CHUNKED_END = Buffer.from('\\r\\n0\\r\\n\\r\\n');

// Runs n requests on one socket; resolves with the latency of each (ns) and the non-2xx count.
function connection(n) {
  return new Promise((resolve, reject) => {
    const lat = [];
    let bad = 0;
    let pending = Buffer.alloc(0);
    let started = 0n;
    const sock = net.connect({ host: target.hostname, port, noDelay: true });
    const send = () => {
      started = process.hrtime.bigint();
      sock.write(request);
    };
    sock.on('connect', send);
    sock.on('error', reject);
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const headEnd = pending.indexOf('\\r\\n\\r\\n');
      if (headEnd < 0) return;
      const headers = pending.toString('latin1', 0, headEnd + 2);
      const m = CONTENT_LENGTH.exec(headers);
      let end;
      if (m) end = headEnd + 4 + Number(m[1]);
      else {
        const z = pending.indexOf(CHUNKED_END, headEnd + 2);
        if (z < 0) return;
        end = z + CHUNKED_END.length;
      }
      if (pending.length < end) return;
      lat.push(Number(process.hrtime.bigint() - started));
      const status = Number(headers.slice(9, 12));
      if (!(status >= 200 && status <= 299)) bad++;
      pending = pending.subarray(end);
      if (lat.length < n) send();
      else {
        sock.destroy();
        resolve({ lat, bad });
      }
    });
  });
}
async function run(total) {
  const per = Math.ceil(total / connections);
  const out = await Promise.all(Array.from({ length: connections }, () => connection(per)));
  return { lat: out.flatMap((o) => o.lat), bad: out.reduce((a, o) => a + o.bad, 0) };
}
(async () => {
  await run(warmup);
  const started = process.hrtime.bigint();
  const { lat, bad } = await run(requests);
  const elapsed = Number(process.hrtime.bigint() - started);
  parentPort.postMessage({ lat, elapsed, non2xx: bad });
})().catch((err) => { throw err; });
`;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function load(options: LoadOptions): Promise<LoadFigure> {
  const worker = new Worker(CLIENT, { eval: true, workerData: { ...options, name: undefined } });
  const out = await new Promise<{ lat: number[]; elapsed: number; non2xx: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  const sorted = Float64Array.from(out.lat).sort();
  const arr = Array.from(sorted);
  return {
    name: options.name,
    connections: options.connections,
    requests: arr.length,
    rps: Math.round(arr.length / (out.elapsed / 1e9)),
    p50_us: round(percentile(arr, 50) / 1e3),
    p99_us: round(percentile(arr, 99) / 1e3),
    non2xx: out.non2xx,
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
