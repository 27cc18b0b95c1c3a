import type { IncomingMessage, RequestListener } from 'node:http';
import express from 'express';
import { correlationId, errorHandler, healthHandler, jsonBody, metricsHandler, notFound, readyHandler, type Logger } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { adminRouter } from '../admin/router';
import { discoveryRouter } from '../oauth/discovery';
import { oauthErrors, oauthOperations, oauthRouter } from '../oauth/router';
import { hotPath } from './hot-path';
import { requestDurations } from './request-metrics';

const NAME = 'identity';
const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/** '100kb' → bytes, in body-parser's notation (BODY_LIMIT). */
function byteSize(limit: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb)?\s*$/i.exec(limit);
  if (!m) throw new TypeError(`not a byte size: ${limit}`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

/**
 * Identity's HTTP surface, composed in one place. The hot path (health, introspection, tokens from
 * a plain form) runs on node:http in front; everything else, and whatever the hot path leaves
 * (compressed bodies, other content types), goes through Express in this order:
 * correlation id → request metrics → health/ready/metrics → body parsers → /oauth → discovery →
 * /v1 admin → 404 → errors (RFC 6749 JSON under /oauth, problem+json elsewhere).
 */
export function identityHttp(ctx: IdentityContext, logger: Logger): RequestListener {
  const durations = requestDurations(ctx.metrics);
  const operations = oauthOperations(ctx);
  const limit = ctx.config.BODY_LIMIT;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  app.use(correlationId());
  app.use(durations.middleware);
  app.get('/health', healthHandler(NAME));
  app.get('/ready', readyHandler(NAME, ctx.checks));
  app.get('/metrics', metricsHandler(ctx.metrics));
  // JSON nested past the shared depth limit is a 400 before it is parsed, as on every service.
  app.use(jsonBody({ limit }));
  app.use(express.urlencoded({ limit, extended: false, parameterLimit: 100 }));
  app.use('/oauth', oauthRouter(ctx, operations));
  app.use(discoveryRouter(ctx));
  app.use('/v1', adminRouter(ctx));
  app.use(notFound());
  app.use(errorHandler(logger));

  // The hot path's errors are answered by the same handlers, through a bare Express app.
  const failures = new WeakMap<IncomingMessage, { err: unknown; correlationId: string }>();
  const errors = express();
  errors.disable('x-powered-by');
  errors.disable('etag');
  errors.use((req, _res, next) => {
    const failure = failures.get(req)!;
    req.correlationId = failure.correlationId;
    next(failure.err);
  });
  errors.use(oauthErrors);
  errors.use(errorHandler(logger));

  const hot = hotPath(operations, {
    name: NAME,
    maxBody: byteSize(limit),
    durations,
    fail: (req, res, correlationId, err) => {
      failures.set(req, { err, correlationId });
      errors(req, res);
    },
  });
  return (req, res) => hot(req, res, () => app(req, res));
}
