import type { RequestListener } from 'node:http';
import express from 'express';
import { correlationId, type Logger, type MetricsRegistry } from '@cloud-stack/service-kit';
import type { PolicyServerContext } from '../context';
import { authorizeRequests } from './authorize';
import { compileRouter } from './compile-api';
import { dataApi } from './data-api';
import { dataWriteRouter } from './data-write-routes';
import { opaErrorHandler, opaNotFound } from './errors';
import { healthRouter } from './health-routes';
import { policyRouter } from './policy-routes';
import { queryRouter } from './query-routes';
import { readBody } from './read-body';
import { statusRouter } from './status-routes';

/**
 * The sidecar's HTTP surface, composed in one place: the Data API (the per-request decision) as
 * plain node:http in front, everything else in Express. Unlike the other services it does not use
 * service-kit's createApp: OPA clients expect OPA's `/health` and OPA's `{code, message}` error
 * bodies everywhere, not problem+json.
 */
export function policyServerApp(ctx: PolicyServerContext, logger: Logger, metrics?: MetricsRegistry): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(correlationId());
  if (ctx.authorize) {
    // OPA's authorizer sees the body of POST /v1/data (the Data API does that itself); the query
    // of POST /v1/compile is what decides whether a client may run it, so its body is read first.
    app.post('/v1/compile', readBody(ctx.config.BODY_LIMIT));
    app.use(authorizeRequests(ctx.authorize));
  }
  app.use(statusRouter(ctx)); // before healthRouter: it answers /health?bundles when bundles are configured
  app.use(healthRouter(ctx));
  if (metrics) {
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4').send(metrics.render());
    });
  }
  app.use('/v1/policies', policyRouter(ctx));
  app.use('/v1/data', dataWriteRouter(ctx));
  app.use('/v1/query', queryRouter(ctx));
  app.use(compileRouter(ctx));
  app.use(opaNotFound());
  app.use(opaErrorHandler(logger));

  const data = dataApi(ctx, logger);
  return (req, res) => data(req, res, () => app(req, res));
}
