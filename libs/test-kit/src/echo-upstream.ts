import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createHash } from 'node:crypto';

/** What an echo upstream saw of one request. */
export interface Echo {
  readonly upstream: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body_bytes: number;
  readonly body_sha256: string;
}

export interface EchoUpstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Requests seen, newest last. */
  readonly seen: Echo[];
  close(): Promise<void>;
}

/**
 * A product behind the gateway, for tests: answers every request with what it received (method,
 * URL, headers, body size and hash). `/health` is its health probe; `/slow?ms=N` answers after N ms;
 * `/big?bytes=N` streams N bytes; `/fail` answers 500.
 */
export async function startEchoUpstream(name: string, port = 0): Promise<EchoUpstream> {
  const seen: Echo[] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/health') return void res.end('ok');
      if (url.pathname.endsWith('/openapi.json')) {
        // What a product publishes for route discovery: one operation the gateway routes, one it lacks.
        const doc = { openapi: '3.0.3', info: { title: name, version: '1' }, paths: { '/api/v1/agents': { get: {} }, '/reports/{reportId}': { get: {} } } };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      }
      const echo: Echo = { upstream: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body_bytes: bytes, body_sha256: hash.digest('hex') };
      seen.push(echo);
      const send = () => {
        if (url.pathname.endsWith('/fail')) {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
        } else if (url.pathname.endsWith('/big')) {
          const total = Number(url.searchParams.get('bytes') ?? 0);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'keep-alive': 'timeout=5', 'x-upstream-secret-hop': 'x' });
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          let left = total;
          const pump = () => {
            while (left > 0) {
              const n = Math.min(left, chunk.length);
              left -= n;
              if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
        } else {
          const body = JSON.stringify(echo);
          // `?sized`: a Content-Length answer (the default one is chunked).
          const length = url.searchParams.has('sized') ? { 'content-length': String(Buffer.byteLength(body)) } : {};
          res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive, x-upstream-secret-hop', 'x-upstream-secret-hop': 'x', ...length });
          res.end(body);
        }
      };
      const delay = Number(url.searchParams.get('ms') ?? 0);
      if (url.pathname.endsWith('/slow') && delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  // Upgrades: 101, then every byte echoed back (what the gateway must pass both ways untouched).
  server.on('upgrade', (req, socket) => {
    seen.push({ upstream: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body_bytes: 0, body_sha256: '' });
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Upstream: ${name}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    name,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
