import { request as httpRequest, ServerResponse, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from '@cloud-stack/contracts';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { GatewayContext } from './context';
import { requestBeginner, type GatewayHandlerDeps } from './gateway-handler';
import { forwardPath } from './proxy/proxy';
import { upstreamHeaders } from './proxy/upstream-headers';
import { runStages } from './stage';

function headerLines(headers: OutgoingHttpHeaders): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out += `${name}: ${String(v)}\r\n`;
  }
  return out;
}

/** Answers an upgrade request on its raw socket with a problem, then closes it. */
function refuse(socket: Duplex, res: ServerResponse, problem: HttpProblem, ctx?: GatewayContext): void {
  if (ctx) ctx.socketStatus = problem.status;
  const body = JSON.stringify({
    ...problem.extensions,
    type: problem.type,
    title: problem.title,
    status: problem.status,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    ...(ctx ? { instance: ctx.path, correlation_id: ctx.correlation.correlationId } : {}),
  });
  const headers = { ...res.getHeaders(), ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' };
  socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n${headerLines(headers)}\r\n${body}`);
}

/**
 * WebSocket (any HTTP/1.1 upgrade) through the gateway: the request is matched, authenticated,
 * authorized, rate-limited, charged and audited exactly like any other, and only then connected to
 * the route's upstream; after the upstream's 101 the two sockets are piped. Routes that do not allow
 * WebSocket refuse the upgrade.
 */
export function gatewayUpgradeHandler(deps: GatewayHandlerDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const begin = requestBeginner(deps);
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    // A response object on the socket: stages set headers on it, and the audit stage holds its end (and the socket's) until the event is stored.
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    const begun = begin(req, res);
    if (begun instanceof HttpProblem) return refuse(socket, res, begun);
    const { ctx, chain } = begun;
    const route = ctx.route;
    if (!route.websocket || req.method !== 'GET') {
      return refuse(socket, res, new HttpProblem(400, 'this route does not accept WebSocket upgrades'));
    }
    runStages(chain.runs, ctx).then(
      () => {
        const upstream = ctx.sandbox ? route.sandbox_upstream : route.upstream;
        if (!upstream) return refuse(socket, res, new HttpProblem(403, 'this request must go to a sandbox, and the route has none'), ctx);
        const url = new URL(upstream);
        if (deps.proxy.health.isDown(url.origin)) return refuse(socket, res, new HttpProblem(503, 'the upstream is down', { headers: { 'Retry-After': '5' } }), ctx);
        const path = forwardPath(route, url.pathname.replace(/\/$/, ''), ctx.path, '');
        const headers = upstreamHeaders(ctx, { ...req.headers }, path, deps.proxy.signingSecret);
        headers.connection = 'Upgrade';
        headers.upgrade = req.headers.upgrade;
        ctx.upstream = `${url.origin}${path}`;
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const out = send({ host: url.hostname, port: url.port, method: 'GET', path: `${path}${ctx.query}`, headers });
        const timer = setTimeout(() => out.destroy(new Error('timeout')), route.timeout_ms);
        out.on('upgrade', (upRes, upSocket, upHead) => {
          clearTimeout(timer);
          ctx.socketStatus = 101;
          const answer: OutgoingHttpHeaders = { ...res.getHeaders() };
          for (let i = 0; i < upRes.rawHeaders.length; i += 2) answer[upRes.rawHeaders[i]!.toLowerCase()] = upRes.rawHeaders[i + 1]!;
          socket.write(`HTTP/1.1 101 Switching Protocols\r\n${headerLines(answer)}\r\n`);
          if (upHead.length) socket.write(upHead);
          if (head.length) upSocket.write(head);
          upSocket.on('error', () => socket.destroy());
          socket.on('close', () => upSocket.destroy());
          upSocket.on('close', () => socket.destroy());
          upSocket.pipe(socket).pipe(upSocket);
        });
        out.on('response', (upRes) => {
          clearTimeout(timer);
          upRes.resume();
          refuse(socket, res, new HttpProblem(502, `the upstream refused the upgrade (${upRes.statusCode})`), ctx);
        });
        out.on('error', (err) => {
          clearTimeout(timer);
          ctx.errorCode = err.message === 'timeout' ? 'upstream_timeout' : 'upstream_unavailable';
          refuse(socket, res, new HttpProblem(err.message === 'timeout' ? 504 : 502, 'the upstream could not be reached'), ctx);
        });
        out.end();
      },
      (err: unknown) => refuse(socket, res, err instanceof HttpProblem ? err : new HttpProblem(500, 'an internal error occurred'), ctx),
    );
  };
}
