import { startTelemetry } from '@cloud-stack/service-kit/telemetry';

// Telemetry first, and everything else imported only after it: a static import is evaluated before
// any code of this module (in the bundle too, where esbuild keeps dynamic imports as chunks), and
// express, pg and ioredis must load after the instrumentations are in place.
const telemetry = startTelemetry('identity');
const { createLogger, exitOnConfigError, startServer } = await import('@cloud-stack/service-kit');
const { readIdentityConfig } = await import('@cloud-stack/identity-core');
const config = exitOnConfigError(() => readIdentityConfig());
const logger = createLogger('identity');

const { createIdentityApp } = await import('./app');
const { app, close } = await createIdentityApp(config, logger);
await startServer(app, { port: config.PORT, host: config.HOST, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, onShutdown: [close, () => telemetry.shutdown()] });
