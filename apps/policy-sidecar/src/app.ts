import type { RequestListener } from 'node:http';
import { MetricsRegistry, type Logger } from '@cloud-stack/service-kit';
import { openPolicyServer, policyServerApp, type DecisionLogSink, type PolicyServer, type PolicyServerConfig } from '@cloud-stack/policy-server';

export interface PolicySidecarApp {
  readonly app: RequestListener;
  readonly server: PolicyServer;
  readonly metrics: MetricsRegistry;
  close(): Promise<void>;
}

/** Opens the policy server and composes the sidecar's HTTP app; exported for supertest. */
export async function createPolicySidecarApp(
  config: PolicyServerConfig,
  logger: Logger,
  options: { sink?: DecisionLogSink } = {},
): Promise<PolicySidecarApp> {
  const metrics = new MetricsRegistry();
  const server = await openPolicyServer(config, { logger, metrics, sink: options.sink });
  return { app: policyServerApp(server, logger, metrics), server, metrics, close: () => server.close() };
}
