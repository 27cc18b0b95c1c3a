import { startTelemetry } from '@cloud-stack/service-kit/telemetry';

// Telemetry first, and everything else imported only after it: a static import is evaluated before
// any code of this module (in the bundle too, where esbuild keeps dynamic imports as chunks), and
// express, pg and ioredis must load after the instrumentations are in place.
const telemetry = startTelemetry('audit-writer');
const { auditQueueName } = await import('@cloud-stack/contracts');
const { createLogger, exitOnConfigError, startServer } = await import('@cloud-stack/service-kit');
const { readAuditWriterConfig } = await import('./config');
const config = exitOnConfigError(() => readAuditWriterConfig());
const logger = createLogger('audit-writer');
// Producers log the same full name; two different names mean a split queue.
logger.info({ queue: auditQueueName(config.AUDIT_QUEUE_PREFIX) }, 'consuming the audit queue');

const { createAuditWriterService } = await import('./app');
const service = await createAuditWriterService(config, logger);
await startServer(service.app, {
  port: config.PORT,
  host: config.HOST,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  onShutdown: [() => service.close(), () => telemetry.shutdown()],
});
