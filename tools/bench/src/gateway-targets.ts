/**
 * The gateway benchmark's baselines, one per process (as the gateway runs): the upstream itself,
 * a bare node:http proxy, and a bare express-http-proxy with the gateway's own transport settings
 * (keep-alive agent, stream mode, no body parsing, requests created with Express's prototypes) and
 * nothing else; `bare-ehp-plain` is the same on a server made the usual way (`createServer(app)`).
 *
 *   TARGET=upstream|bare-node|bare-ehp|bare-ehp-plain PORT=… UPSTREAM=http://127.0.0.1:… node --import tsx gateway-targets.ts
 */
import { Agent, createServer, request } from 'node:http';
import express from 'express';
import proxy from 'express-http-proxy';
import { expressBorn } from '@cloud-stack/service-kit';

// Exiting through process.exit lets --cpu-prof (BENCH_PROFILE_DIR) write the profile.
process.on('SIGTERM', () => process.exit(0));

const target = process.env.TARGET;
const port = Number(process.env.PORT);
const upstream = process.env.UPSTREAM ?? '';
// A small JSON answer, as a typical API read.
const BODY = JSON.stringify({ id: 'agent-1', name: 'bench', status: 'ready', tags: ['a', 'b', 'c'], pad: 'x'.repeat(120) });

function listen(server: ReturnType<typeof createServer>): void {
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${port}\n`));
}

if (target === 'upstream') {
  listen(createServer((req, res) => {
    if (req.url === '/health') return void res.end('ok');
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }).end(BODY);
  }));
} else if (target === 'bare-node') {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const { hostname, port: upPort } = new URL(upstream);
  listen(createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    const out = request({ agent, host: hostname, port: upPort, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  }));
} else if (target === 'bare-ehp' || target === 'bare-ehp-plain') {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    proxy(upstream, {
      parseReqBody: false,
      proxyReqOptDecorator: (opts) => {
        opts.agent = agent;
        if (opts.headers) delete (opts.headers as Record<string, unknown>).connection;
        return opts;
      },
    }),
  );
  listen(target === 'bare-ehp' ? createServer(expressBorn(app), app) : createServer(app));
} else {
  process.stderr.write(`unknown TARGET ${String(target)}\n`);
  process.exit(2);
}
