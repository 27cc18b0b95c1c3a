import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import proxy from 'express-http-proxy';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Route } from '@cloud-stack/gateway-routing';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { GatewayContext } from '../context';
import { stripHopByHop, upstreamHeaders } from './upstream-headers';
import type { UpstreamHealth } from './upstream-health';

export const GATEWAY_CONTEXT = Symbol('gateway.context');
type WithContext = Request & { [GATEWAY_CONTEXT]?: GatewayContext };

export interface ProxyDeps {
  readonly health: UpstreamHealth;
  /** HMAC secret for X-Gateway-Signature; undefined = identity headers unsigned. */
  readonly signingSecret?: string;
  readonly maxBodyBytes: number;
  /** Called when the upstream failed after the request was charged (to refund the budget). */
  readonly onUpstreamFailure?: (ctx: GatewayContext) => void;
}

class ProxyFailure extends Error {
  constructor(
    readonly status: 413 | 502 | 504,
    message: string,
    readonly refused = false,
  ) {
    super(message);
  }
}

/** One keep-alive agent per upstream origin, shared by every route that goes there. */
export class UpstreamAgents {
  private readonly agents = new Map<string, HttpAgent>();
  constructor(private readonly maxSockets = 256) {}

  for(origin: string): HttpAgent {
    let agent = this.agents.get(origin);
    if (!agent) {
      // Idle pooled sockets are closed after 4 s, before the common 5 s keep-alive of upstream
      // servers (Node's default) closes them under a request.
      const options = { keepAlive: true, maxSockets: this.maxSockets, scheduling: 'lifo' as const, timeout: 4000 };
      agent = origin.startsWith('https:') ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(origin, agent);
    }
    return agent;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

interface Target {
  readonly origin: string;
  readonly handler: RequestHandler;
}

/** The path the upstream receives: the route's prefix stripped, the upstream's base path put before it. */
export function forwardPath(route: Route, basePath: string, path: string, query: string): string {
  let rest = path;
  const strip = route.strip_prefix?.replace(/\/$/, '');
  if (strip && (rest === strip || rest.startsWith(`${strip}/`))) rest = rest.slice(strip.length) || '/';
  return `${basePath}${rest}${query}`;
}

/**
 * express-http-proxy in stream mode for one target of one route: no request body parsing
 * (`parseReqBody: false`), no response decorators (either would buffer whole bodies), and our own
 * `sendProxyRequest` step so that upstream connections are kept alive (the library's default
 * forces `Connection: close`), hop-by-hop headers are removed both ways, a body over the limit is
 * cut off, and a timeout before the response headers is a 504.
 */
function buildTarget(route: Route, upstream: string, deps: ProxyDeps, agents: UpstreamAgents): Target {
  const url = new URL(upstream);
  const origin = url.origin;
  const basePath = url.pathname.replace(/\/$/, '');
  const agent = agents.for(origin);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = route.timeout_ms;

  const options: proxy.ProxyOptions & { sendProxyRequest: (container: ProxyContainer) => Promise<ProxyContainer> } = {
    parseReqBody: false,
    https: url.protocol === 'https:',
    proxyReqPathResolver: (req: Request) => {
      const ctx = (req as WithContext)[GATEWAY_CONTEXT]!;
      return forwardPath(route, basePath, ctx.path, ctx.query);
    },
    proxyReqOptDecorator: (opts: RequestOptions, req: Request) => {
      const ctx = (req as WithContext)[GATEWAY_CONTEXT]!;
      opts.agent = agent;
      opts.headers = upstreamHeaders(ctx, opts.headers as OutgoingHttpHeaders, forwardPath(route, basePath, ctx.path, ''), deps.signingSecret);
      return opts;
    },
    // The library's own step (an option its typings omit), rewritten for keep-alive, limits and timeouts.
    sendProxyRequest: (container: ProxyContainer) =>
      new Promise<ProxyContainer>((resolve, reject) => {
        const req = container.user.req;
        const res = container.user.res;
        const options = container.proxy.reqBuilder;
        const ctx = (req as WithContext)[GATEWAY_CONTEXT]!;
        ctx.upstream = `${origin}${options.path.split('?')[0]}`;
        const deadline = Date.now() + timeoutMs;
        const bodiless = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;

        let current: ClientRequest | undefined;
        const attempt = (mayRetry: boolean): void => {
          const proxyReq = (current = send(options, (rsp) => {
            clearTimeout(timer);
            stripHopByHop(rsp.headers);
            if ((rsp.statusCode ?? 0) >= 500) deps.onUpstreamFailure?.(ctx);
            container.proxy.res = rsp;
            resolve(container);
          }));
          const timer = setTimeout(() => proxyReq.destroy(new ProxyFailure(504, `the upstream did not answer within ${timeoutMs} ms`)), Math.max(1, deadline - Date.now()));
          proxyReq.on('error', (err: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            if (err instanceof ProxyFailure) return reject(err);
            // A pooled connection the upstream closed just as we reused it: nothing reached the
            // upstream, so a request without a body is sent again once, on a fresh connection.
            if (mayRetry && proxyReq.reusedSocket && err.code === 'ECONNRESET' && !res.destroyed) return attempt(false);
            const refused = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENOTFOUND';
            reject(new ProxyFailure(502, refused ? 'the upstream refused the connection' : 'the upstream connection failed', refused));
          });
          res.once('close', () => {
            if (!res.writableFinished) proxyReq.destroy();
          });
          if (bodiless) proxyReq.end();
          else req.pipe(proxyReq);
        };

        if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) {
          let bytes = 0;
          req.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > deps.maxBodyBytes) current?.destroy(new ProxyFailure(413, `the request body exceeds ${deps.maxBodyBytes} bytes`));
          });
        }
        attempt(bodiless);
      }),
    proxyErrorHandler: (err: unknown, res: Response, next: NextFunction) => {
      const ctx = (res.req as WithContext)[GATEWAY_CONTEXT];
      if (err instanceof ProxyFailure) {
        if (ctx) {
          ctx.errorCode = err.status === 504 ? 'upstream_timeout' : err.status === 413 ? 'body_too_large' : 'upstream_unavailable';
          if (err.status !== 413) deps.onUpstreamFailure?.(ctx);
        }
        if (err.refused) deps.health.reportFailure(origin, err.message);
        // The rest of a refused body is not read: the connection cannot carry another request.
        if (err.status === 413 && !res.headersSent) res.setHeader('Connection', 'close');
        return next(new HttpProblem(err.status, err.message));
      }
      next(err);
    },
  };
  return { origin, handler: proxy(origin, options) };
}

/** The part of express-http-proxy's container our send step reads and writes. */
interface ProxyContainer {
  user: { req: Request; res: Response };
  proxy: { reqBuilder: RequestOptions & { path: string }; res?: IncomingMessage };
}

/**
 * The proxy for one route: primary and sandbox targets, built once per route. A target marked down
 * by the health checks is answered 503 at once.
 */
export function buildRouteProxy(route: Route, deps: ProxyDeps, agents: UpstreamAgents): (ctx: GatewayContext, req: Request, res: Response, next: NextFunction) => void {
  const primary = buildTarget(route, route.upstream, deps, agents);
  const sandbox = route.sandbox_upstream ? buildTarget(route, route.sandbox_upstream, deps, agents) : undefined;
  return (ctx, req, res, next) => {
    const target = ctx.sandbox ? sandbox : primary;
    if (!target) {
      ctx.errorCode = 'sandbox_unavailable';
      return next(new HttpProblem(403, 'this request must go to a sandbox, and the route has none'));
    }
    if (deps.health.isDown(target.origin)) {
      ctx.errorCode = 'upstream_down';
      if (ctx.charged > 0) deps.onUpstreamFailure?.(ctx);
      return next(new HttpProblem(503, 'the upstream is down', { headers: { 'Retry-After': '5' } }));
    }
    (req as WithContext)[GATEWAY_CONTEXT] = ctx;
    target.handler(req, res, next);
  };
}
