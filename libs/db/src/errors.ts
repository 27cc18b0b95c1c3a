/**
 * SQLSTATEs that mean the session is gone or cannot start, not that the statement was wrong:
 * class 08 (connection exception), 57P01–57P03 (administrator/crash shutdown, cannot connect
 * now), 57P05 and 25P03 (idle timeouts end the session), 53300 (too many connections).
 */
const SESSION_LOST_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1235]|25P03|53300)$/;
/** Socket-level failures of the connection to the server. */
const SOCKET_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** What pg and pg-pool say (without a code) when the socket ended or no connection came in time. */
const DRIVER_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** True when `err` says the connection to PostgreSQL failed, rather than the statement. */
export function isConnectionFailure(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SESSION_LOST_SQLSTATE.test(code) || SOCKET_ERRNO.has(code))) return true;
  return typeof message === 'string' && DRIVER_MESSAGE.test(message);
}

/**
 * A statement failed because the database connection was lost or could not be opened (server
 * restart, failover, `pg_terminate_backend`, pool exhausted). The statement may be retried on a
 * new connection; a transaction it belonged to was rolled back by the server. Over HTTP it is a
 * 503 with `Retry-After` (service-kit's error handler reads `status` and `retryAfterSeconds`).
 * `code` is the cause's SQLSTATE or errno, so callers that classify by code keep working.
 */
export class DatabaseUnavailableError extends Error {
  readonly status = 503;
  readonly dependency = 'database';
  readonly retryAfterSeconds = 1;
  readonly code: string | undefined;

  constructor(override readonly cause: unknown) {
    const c = (cause ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof c.code === 'string' ? c.code : undefined;
    super(typeof c.message === 'string' && c.message ? c.message : (code ?? 'database connection lost'));
    this.name = 'DatabaseUnavailableError';
    this.code = code;
  }
}
