import { createLogger, exitOnConfigError, startServer, startTelemetry } from '@cloud-stack/service-kit';

// Telemetry first; identity's modules (pg, ioredis) load after it, so they can be instrumented.
const telemetry = startTelemetry('identity');
const { readIdentityConfig } = await import('@cloud-stack/identity-core');
const config = exitOnConfigError(() => readIdentityConfig());
const logger = createLogger('identity');

const { createIdentityApp } = await import('./app');
const { app, close } = await createIdentityApp(config, logger);
await startServer(app, { port: config.PORT, host: config.HOST, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, onShutdown: [close, () => telemetry.shutdown()] });
