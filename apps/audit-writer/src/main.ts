import { auditQueueName } from '@cloud-stack/contracts';
import { createLogger, exitOnConfigError, startServer, startTelemetry } from '@cloud-stack/service-kit';

// Telemetry first: pg, ioredis and express load after it, so they can be instrumented.
const telemetry = startTelemetry('audit-writer');
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
