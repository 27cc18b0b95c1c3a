import { createLogger, exitOnConfigError, startServer, startTelemetry } from '@cloud-stack/service-kit';
import { policyServerEnv, readPolicyServerConfig } from '@cloud-stack/policy-server';

// Telemetry first, so http/express/ioredis are instrumented when the app loads them.
const telemetry = startTelemetry('policy-sidecar');
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
