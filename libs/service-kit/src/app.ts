import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Logger } from 'pino';
import { correlationId } from './correlation';
import { HttpProblem, sendProblem } from './problem';
import type { MetricsRegistry } from './metrics';

export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
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

function withTimeout(check: ReadinessCheck): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
    check.check().then(
      () => (clearTimeout(timer), resolve()),
      (err: unknown) => (clearTimeout(timer), reject(err)),
    );
  });
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

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/ready', async (_req, res) => {
    const results = await Promise.all(
      (options.checks ?? []).map(async (c) => {
        try {
          await withTimeout(c);
          return { name: c.name, ok: true as const };
        } catch (err) {
          return { name: c.name, ok: false as const, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', service: options.name, checks: results });
  });
  if (metrics) {
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4').send(metrics.render());
    });
  }

  const limit = options.bodyLimit ?? '100kb';
  app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ limit, extended: false, parameterLimit: 100 }));

  options.mount(app);

  app.use((req, _res, next) => next(new HttpProblem(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** Last in the chain: turns any error into problem+json; internals stay in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    if (err instanceof HttpProblem) {
      if (err.status >= 500) logger.error({ err, correlation_id: req.correlationId }, err.message);
      sendProblem(req, res, err);
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
