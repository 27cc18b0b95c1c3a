import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from 'pino';

export interface ServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly logger: Logger;
  /** Run after the server stopped accepting and drained: close pools, queues, workers. */
  readonly onShutdown?: ReadonlyArray<() => Promise<void>>;
  /** How long in-flight requests may take to finish before their sockets are closed. */
  readonly drainTimeoutMs?: number;
  /** Install SIGTERM/SIGINT handlers that drain and exit (off in tests). */
  readonly handleSignals?: boolean;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, waits for in-flight requests, runs the shutdown hooks. */
  close(): Promise<void>;
}

/** Listens; on SIGTERM stops accepting, drains in-flight requests, closes resources, exits 0. */
export async function startServer(app: RequestListener, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const server = createServer(app).listen(options.port, options.host ?? '0.0.0.0');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ port }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response ends; close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
      await drained;
      clearInterval(sweep);
      clearTimeout(timer);
      for (const hook of options.onShutdown ?? []) {
        try {
          await hook();
        } catch (err) {
          logger.error({ err }, 'shutdown hook failed');
        }
      }
      logger.info('stopped');
    })());

  if (options.handleSignals ?? true) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'draining');
        close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }
  return { server, port, close };
}
