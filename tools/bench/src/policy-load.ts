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
  readonly connections: number;
  readonly requests: number;
  readonly warmup: number;
}

// The client runs in a worker thread so the server has the main thread's event loop to itself;
// each connection is a keep-alive socket sending its next request when the previous one ends.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, method, body, connections, requests, warmup } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const target = new URL(url);
const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
function once() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve([Number(process.hrtime.bigint() - started), res.statusCode]));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
async function loop(n, out, bad) {
  for (let i = 0; i < n; i++) {
    const [ns, status] = await once();
    if (out) out.push(ns);
    if (status < 200 || status > 299) bad.count++;
  }
}
(async () => {
  const bad = { count: 0 };
  await Promise.all(Array.from({ length: connections }, () => loop(Math.ceil(warmup / connections), null, { count: 0 })));
  const lat = [];
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: connections }, () => loop(Math.ceil(requests / connections), lat, bad)));
  const elapsed = Number(process.hrtime.bigint() - started);
  agent.destroy();
  parentPort.postMessage({ lat, elapsed, non2xx: bad.count });
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
