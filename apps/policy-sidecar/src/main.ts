import { createLogger, exitOnConfigError, startServer, startTelemetry } from '@cloud-stack/service-kit';
import { readPolicyServerConfig } from '@cloud-stack/policy-server';

// Telemetry first, so http/express/ioredis are instrumented when the app loads them.
const telemetry = startTelemetry('policy-sidecar');
const config = exitOnConfigError(() => readPolicyServerConfig());
const logger = createLogger('policy-sidecar');

const { createPolicySidecarApp } = await import('./app');
const { app, close } = await createPolicySidecarApp(config, logger);
await startServer(app, { port: config.PORT, host: config.HOST, logger, onShutdown: [close, () => telemetry.shutdown()] });
