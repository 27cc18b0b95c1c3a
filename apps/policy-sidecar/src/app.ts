import express, { type Express } from 'express';
import { correlationId, MetricsRegistry, type Logger } from '@cloud-stack/service-kit';
import {
  dataRouter,
  healthRouter,
  opaErrorHandler,
  opaNotFound,
  openPolicyServer,
  policyRouter,
  type DecisionLogSink,
  type PolicyServer,
  type PolicyServerConfig,
} from '@cloud-stack/policy-server';

export interface PolicySidecarApp {
  readonly app: Express;
  readonly server: PolicyServer;
  readonly metrics: MetricsRegistry;
  close(): Promise<void>;
}

/**
 * Composes the sidecar; exported for supertest. Unlike the other services it does not use
 * service-kit's createApp: OPA clients expect OPA's `/health` and OPA's `{code, message}` error
 * bodies everywhere, not problem+json.
 */
export async function createPolicySidecarApp(
  config: PolicyServerConfig,
  logger: Logger,
  options: { sink?: DecisionLogSink } = {},
): Promise<PolicySidecarApp> {
  const metrics = new MetricsRegistry();
  const server = await openPolicyServer(config, { logger, metrics, sink: options.sink });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(correlationId());
  app.use(healthRouter(server));
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });
  app.use('/v1/data', dataRouter(server));
  app.use('/v1/policies', policyRouter(server));
  app.use(opaNotFound());
  app.use(opaErrorHandler(logger));
  return { app, server, metrics, close: () => server.close() };
}
