import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Route, RouteMatch } from '@cloud-stack/gateway-routing';
import { HttpProblem, type Counter, type Histogram } from '@cloud-stack/service-kit';
import { requestContext, type GatewayContext } from './context';
import { buildRouteProxy, type ProxyDeps, type UpstreamAgents } from './proxy/proxy';
import { readCorrelation } from './request/correlation';
import { inspectRequest, isDefect } from './request/inspect';
import { buildStageRuns, runStages, type Stage, type StageRun } from './stage';

/** The live route table as the handler needs it (libs/gateway-routing's RouteTable). */
export interface RouteLookup {
  match(method: string, host: string, path: string): RouteMatch;
}

export interface GatewayHandlerDeps {
  readonly routes: RouteLookup;
  /** Every stage, in the order they run: audit first (it takes over the response's last bytes, so every later refusal is recorded), then auth, policy, rate_limit, budget. */
  readonly stages: readonly Stage[];
  readonly proxy: ProxyDeps;
  readonly agents: UpstreamAgents;
  readonly maxBodyBytes: number;
  readonly metrics?: { readonly requests: Counter; readonly latency: Histogram };
}

export interface Chain {
  readonly runs: readonly StageRun[];
  readonly proxy: ReturnType<typeof buildRouteProxy>;
  /** Records a finished request in the route's metrics series (bound once per route and status). */
  readonly record: (status: number, seconds: number) => void;
}

function recorder(route: Route, metrics: GatewayHandlerDeps['metrics']): Chain['record'] {
  if (!metrics) return () => undefined;
  const latency = metrics.latency.labels({ route: route.id });
  const byStatus = new Map<number, { inc(): void }>();
  return (status, seconds) => {
    let requests = byStatus.get(status);
    if (!requests) byStatus.set(status, (requests = metrics.requests.labels({ route: route.id, status: String(status) })));
    requests.inc();
    latency.observe(seconds);
  };
}

/** A request the gateway has matched to a route: its context and the route's prepared chain. */
export interface Begun {
  readonly ctx: GatewayContext;
  readonly chain: Chain;
}

/**
 * What every request goes through before its route's stages: correlation ids (echoed on `res`),
 * request inspection, route match. Returns the context and the route's chain, built once per route
 * object (a reloaded table brings new route objects, so new chains), or the problem to answer.
 */
export function requestBeginner(deps: GatewayHandlerDeps): (req: IncomingMessage, res: ServerResponse) => Begun | HttpProblem {
  const chains = new WeakMap<Route, Chain>();
  const chainFor = (route: Route): Chain => {
    let chain = chains.get(route);
    if (!chain) {
      chain = { runs: buildStageRuns(route, deps.stages), proxy: buildRouteProxy(route, deps.proxy, deps.agents), record: recorder(route, deps.metrics) };
      chains.set(route, chain);
    }
    return chain;
  };
  return (req, res) => {
    const startedAt = process.hrtime.bigint();
    const correlation = readCorrelation(req.headers);
    (req as Request).correlationId = correlation.correlationId;
    res.setHeader('X-Correlation-ID', correlation.correlationId);
    if (correlation.causationId) res.setHeader('X-Causation-ID', correlation.causationId);
    res.setHeader('traceparent', correlation.traceparent);

    const inspected = inspectRequest(req, deps.maxBodyBytes);
    if (isDefect(inspected)) {
      res.setHeader('Connection', 'close');
      return new HttpProblem(inspected.status, inspected.detail);
    }
    const method = req.method ?? 'GET';
    const match = deps.routes.match(method, inspected.authority, inspected.path);
    if (match.kind === 'none') return new HttpProblem(404, `no route for ${method} ${inspected.path}`);
    if (match.kind === 'method_not_allowed') return new HttpProblem(405, `${method} is not allowed here`, { headers: { Allow: match.allow.join(', ') } });
    const route = match.route;
    const ctx = requestContext({
      req,
      res,
      startedAt,
      receivedAt: Date.now(),
      correlation,
      route,
      routeVersion: match.version,
      params: match.params,
      path: inspected.path,
      query: inspected.query,
      host: inspected.host,
      ip: req.socket.remoteAddress ?? null,
    });
    return { ctx, chain: chainFor(route) };
  };
}

function corsHeaders(route: Route, req: Request, res: Response): void {
  const origin = req.headers.origin;
  if (!origin || route.cors_origins.length === 0) return;
  const any = route.cors_origins.includes('*');
  if (!any && !route.cors_origins.includes(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', 'X-Correlation-ID, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After');
}

function isPreflight(req: Request): boolean {
  return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
}

/** The gateway's one request handler: begin (correlation, inspection, match) → CORS → the route's stages → proxy. */
export function gatewayHandler(deps: GatewayHandlerDeps): RequestHandler {
  const begin = requestBeginner(deps);
  return (req: Request, res: Response, next: NextFunction) => {
    const begun = begin(req, res);
    if (begun instanceof HttpProblem) return next(begun);
    const { ctx, chain } = begun;
    const route = ctx.route;
    corsHeaders(route, req, res);
    if (isPreflight(req) && route.cors_origins.length > 0) {
      res.setHeader('Access-Control-Allow-Methods', route.methods.length ? route.methods.join(', ') : 'GET, HEAD, POST, PUT, PATCH, DELETE');
      res.setHeader('Access-Control-Allow-Headers', String(req.headers['access-control-request-headers'] ?? 'authorization, content-type'));
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    if (deps.metrics) res.once('finish', () => chain.record(res.statusCode, Number(process.hrtime.bigint() - ctx.startedAt) / 1e9));
    runStages(chain.runs, ctx).then(
      () => chain.proxy(ctx, req, res, next),
      (err: unknown) => next(err),
    );
  };
}
