import { isMainThread } from 'node:worker_threads';
import { startTelemetry } from '@cloud-stack/service-kit/telemetry';

// Bundled, this file is also the entry of the decision-log worker thread (DecisionLogger's
// workerUrl): there it ships decision logs until terminated, and the rest never runs.
if (!isMainThread) await (await import('@cloud-stack/policy-server')).runDecisionLogWorker();

// Telemetry first, and everything else imported only after it: a static import is evaluated before
// any code of this module (in the bundle too, where esbuild keeps dynamic imports as chunks), and
// express and ioredis must load after the instrumentations are in place.
const telemetry = startTelemetry('policy-sidecar');
const { createLogger, exitOnConfigError, startServer } = await import('@cloud-stack/service-kit');
const { policyServerEnv, readPolicyServerConfig } = await import('@cloud-stack/policy-server');
const config = exitOnConfigError(() => readPolicyServerConfig(policyServerEnv(process.argv.slice(2))));
const logger = createLogger('policy-sidecar');

const { createPolicySidecarApp } = await import('./app');
const { app, server, close } = await createPolicySidecarApp(config, logger);
await startServer(app, {
  port: config.PORT,
  host: config.HOST,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  // Buffered decision logs ship at SIGTERM, not after the drain.
  onShutdownStart: [async () => server.decisions?.flush()],
  onShutdown: [close, () => telemetry.shutdown()],
});
