import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { correlationId } from './correlation';
import { jsonBody } from './json-body';
import { HttpProblem, sendProblem } from './problem';
import type { MetricsRegistry } from './metrics';

export interface ReadinessCheck {
  readonly name: string;
  /**
   * Resolves when the dependency answers; rejects with the reason otherwise. May resolve with a
   * warning: still ready, but `/ready` shows what an operator should fix (e.g. Redis without persistence).
   */
  check(): Promise<void | { readonly warning: string }>;
}

export interface AppOptions {
  readonly name: string;
  readonly logger: Logger;
  readonly checks?: readonly ReadinessCheck[];
  readonly bodyLimit?: string;
  readonly metrics?: MetricsRegistry;
  /** Mounts the service's own routes; runs after the shared middleware, before the error handlers. */
  readonly mount: (app: Express) => void;
}

const READY_TIMEOUT_MS = 2_000;

function withTimeout(check: ReadinessCheck): Promise<void | { readonly warning: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
    check.check().then(
      (note) => (clearTimeout(timer), resolve(note)),
      (err: unknown) => (clearTimeout(timer), reject(err)),
    );
  });
}

/** `GET /health`: the process is alive. */
export function healthHandler(name: string): RequestHandler {
  return (_req, res) => {
    res.json({ status: 'ok', service: name });
  };
}

/** `GET /ready`: every dependency answers (each check bounded by a timeout); 503 naming the ones that do not. */
export function readyHandler(name: string, checks: readonly ReadinessCheck[]): RequestHandler {
  return async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          const note = await withTimeout(c);
          return { name: c.name, ok: true as const, ...(note ? { warning: note.warning } : {}) };
        } catch (err) {
          return { name: c.name, ok: false as const, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', service: name, checks: results });
  };
}

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsHandler(metrics: MetricsRegistry): RequestHandler {
  return (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  };
}

/** The last handler before the error handler: a 404 problem for whatever nothing else answered. */
export function notFound(): RequestHandler {
  return (req, _res, next) => next(new HttpProblem(404, `no route for ${req.method} ${req.path}`));
}

/** An Express app with the platform's shared behaviour; the service's routes go in `mount`. */
export function createApp(options: AppOptions): Express {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  const requests = metrics?.histogram('http_request_duration_seconds', 'HTTP request duration by status class');

  app.use(correlationId());
  if (requests) {
    app.use((_req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => requests.observe(Number(process.hrtime.bigint() - started) / 1e9, { status: `${Math.floor(res.statusCode / 100)}xx` }));
      next();
    });
  }

  app.get('/health', healthHandler(options.name));
  app.get('/ready', readyHandler(options.name, options.checks ?? []));
  if (metrics) app.get('/metrics', metricsHandler(metrics));

  const limit = options.bodyLimit ?? '100kb';
  app.use(jsonBody({ limit }));
  app.use(express.urlencoded({ limit, extended: false, parameterLimit: 100 }));

  options.mount(app);

  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/**
 * What a data-access lib throws when its backing service is down for now (e.g. @cloud-stack/db's
 * DatabaseUnavailableError): answered 503 with Retry-After, never 500. Matched by shape so this
 * lib needs none of them.
 */
interface DependencyUnavailable {
  status: 503;
  dependency: string;
  retryAfterSeconds: number;
}

function isDependencyUnavailable(err: unknown): err is DependencyUnavailable {
  const e = err as Partial<DependencyUnavailable> | null;
  return e instanceof Error && e.status === 503 && typeof e.dependency === 'string' && typeof e.retryAfterSeconds === 'number';
}

/** Last in the chain: turns any error into problem+json; internals stay in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    if (err instanceof HttpProblem) {
      // A problem is a deliberate answer (a dependency or upstream down), not a bug: no stack trace.
      if (err.status >= 500) logger.warn({ status: err.status, detail: err.detail, correlation_id: req.correlationId }, err.message);
      sendProblem(req, res, err);
      return;
    }
    if (isDependencyUnavailable(err)) {
      logger.warn({ err, correlation_id: req.correlationId }, `${err.dependency} unavailable`);
      sendProblem(req, res, new HttpProblem(503, `the ${err.dependency} is unavailable right now; retry shortly`, { headers: { 'retry-after': String(err.retryAfterSeconds) } }));
      return;
    }
    const parser = err as BodyParserError;
    if (parser.type === 'entity.too.large') {
      sendProblem(req, res, new HttpProblem(413, 'request body exceeds the size limit'));
      return;
    }
    if (parser.type === 'entity.parse.failed') {
      sendProblem(req, res, new HttpProblem(400, 'request body is not valid JSON'));
      return;
    }
    if (parser.type === 'encoding.unsupported' || parser.type === 'charset.unsupported') {
      sendProblem(req, res, new HttpProblem(415, 'unsupported body encoding'));
      return;
    }
    if (parser.expose && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
      sendProblem(req, res, new HttpProblem(parser.status, 'malformed request'));
      return;
    }
    logger.error({ err, correlation_id: req.correlationId }, 'unhandled error');
    sendProblem(req, res, new HttpProblem(500, 'an internal error occurred'));
  };
}
