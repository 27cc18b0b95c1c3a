import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './config';
import { expressBorn, expressOf, type ExpressPrototypes } from './express-born';

export interface ServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly logger: Logger;
  /**
   * Run as soon as shutdown starts, while in-flight requests drain: ship what must not be lost
   * (decision logs, held audit events) before anything else can use up the budget.
   */
  readonly onShutdownStart?: ReadonlyArray<() => Promise<void>>;
  /** Run after the server stopped accepting and drained: close pools, queues, workers. */
  readonly onShutdown?: ReadonlyArray<() => Promise<void>>;
  /**
   * The whole shutdown (drain, then every hook) ends within this many milliseconds (default
   * 8000: Cloud Run kills 10 s after SIGTERM); a hook still running then is logged and abandoned.
   */
  readonly shutdownTimeoutMs?: number;
  /** How long in-flight requests may take to finish before their sockets are closed (default: half the budget). */
  readonly drainTimeoutMs?: number;
  /** Install SIGTERM/SIGINT handlers that drain and exit (off in tests). */
  readonly handleSignals?: boolean;
  /** Largest request head accepted; a larger one is answered 431 (Node's default: 16 KiB). */
  readonly maxHeaderSize?: number;
  /**
   * The Express app behind `app` when `app` is a listener in front of one (default: `app` itself
   * if it is an Express app): requests and responses are created with its prototypes (see
   * `expressBorn`).
   */
  readonly express?: ExpressPrototypes;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, waits for in-flight requests, runs the shutdown hooks. */
  close(): Promise<void>;
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request head exceeds the size limit'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'chunk extensions exceed the size limit'],
};

/**
 * A request Node's parser refused (oversized head, malformed framing such as conflicting
 * Content-Length and Transfer-Encoding) gets a problem+json answer like every other error,
 * then the connection is closed: after a framing error nothing more on it can be trusted.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, title, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'the request is malformed'];
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Waits for `work`, but not past `ms`: one hung hook must not hold the rest of the shutdown hostage. */
async function within(work: () => Promise<unknown>, ms: number, step: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.error({ step }, 'shutdown step cut short: the shutdown budget is spent');
      resolve();
    }, Math.max(0, ms));
  });
  const done = Promise.resolve()
    .then(work)
    .then(
      () => undefined,
      (err: unknown) => logger.error({ err, step }, 'shutdown hook failed'),
    );
  await Promise.race([done, cut]);
  clearTimeout(timer);
}

/** Listens; on SIGTERM stops accepting, drains in-flight requests, closes resources, exits 0 — all within a budget. */
export async function startServer(app: RequestListener, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const express = options.express ?? expressOf(app);
  const server = createServer({ maxHeaderSize: options.maxHeaderSize, ...(express && expressBorn(express)) }, app);
  server.on('clientError', answerClientError);
  server.listen(options.port, options.host ?? '0.0.0.0');
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
  const budget = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const started = performance.now();
      const left = () => budget - (performance.now() - started);
      // What must not be lost goes first, alongside the drain rather than after it.
      const flushing = (options.onShutdownStart ?? []).map((hook, i) => within(hook, budget, `onShutdownStart[${i}]`, logger));
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response ends; close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), Math.min(options.drainTimeoutMs ?? budget / 2, budget));
      await drained;
      clearInterval(sweep);
      clearTimeout(timer);
      await Promise.all(flushing);
      for (const [i, hook] of (options.onShutdown ?? []).entries()) await within(hook, left(), `onShutdown[${i}]`, logger);
      logger.info({ took_ms: Math.round(performance.now() - started), budget_ms: budget }, 'stopped');
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
