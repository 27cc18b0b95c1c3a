import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { startTelemetry } from '@cloud-stack/service-kit/telemetry';

// Telemetry first, and everything else imported only after it: a static import is evaluated before
// any code of this module (in the bundle too, where esbuild keeps dynamic imports as chunks), and
// express, pg and ioredis must load after the instrumentations are in place. The gateway continues
// traceparent itself, so without an OTLP endpoint it creates no spans at all.
const telemetry = startTelemetry('gateway', process.env, { onlyWhenExporting: true });
const { auditQueueName } = await import('@cloud-stack/contracts');
const { createLogger, exitOnConfigError, startServer } = await import('@cloud-stack/service-kit');
const { readGatewayConfig } = await import('./config');
const config = exitOnConfigError(() => readGatewayConfig());
const logger = createLogger('gateway');
const workers = config.WEB_CONCURRENCY ?? availableParallelism();

if (cluster.isPrimary && workers > 1) {
  // One Node process uses one core: the primary migrates once, then forks a worker per CPU that
  // share the port. Caches stay correct across workers because each subscribes to revocations
  // and route changes itself.
  const { prepareDatabase } = await import('./migrate');
  await prepareDatabase(config, logger);
  let stopping = false;
  const fork = () => cluster.fork({ GATEWAY_MIGRATE_ON_START: 'false' });
  for (let i = 0; i < workers; i++) fork();
  cluster.on('listening', (worker) => logger.info({ pid: worker.process.pid }, 'gateway worker listening'));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker exited; starting another');
    setTimeout(fork, 500);
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      // Workers spend at most the shutdown budget; the primary waits for them, not longer.
      setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 500).unref();
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length > 0) return;
        clearInterval(check);
        void telemetry.shutdown().finally(() => process.exit(0));
      }, 50);
    });
  }
  logger.info({ workers, port: config.PORT, audit_queue: auditQueueName(config.AUDIT_QUEUE_PREFIX) }, 'gateway primary started');
} else {
  const { createGateway } = await import('./app');
  const gateway = await createGateway(config, logger);
  const running = await startServer(gateway.app, {
    express: gateway.express,
    port: config.PORT,
    host: config.HOST,
    logger,
    maxHeaderSize: config.MAX_HEADER_BYTES,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // Audit events of requests already answered ship while the rest drain.
    // Open console event streams end first: they would hold the drain to its deadline.
    onShutdownStart: [async () => gateway.endStreams(), async () => gateway.audit?.flush()],
    onShutdown: [() => gateway.close(), () => telemetry.shutdown()],
  });
  running.server.on('upgrade', gateway.upgrade);
}
