import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { DatabaseUnavailableError, isConnectionFailure } from './errors';

/**
 * Kysely's view of a pg Pool in which a lost connection is an error of the statement, never of
 * the process.
 *
 * pg-pool listens for a client's 'error' only while the client sits idle; while it is checked
 * out (a transaction between two statements, or a statement whose socket dies after the reply)
 * nobody does, and Node turns the 57P01 of a `pg_terminate_backend`, a restart or a failover
 * into an uncaught exception. Here every client gets a listener for its whole life, from the
 * pool's 'connect'; the error is remembered and handed to the next statement on that client
 * (and to Kysely's ROLLBACK after it) as a DatabaseUnavailableError, and the client is released
 * with the error, so pg-pool destroys it instead of lending it out again.
 */
export function guardPool(pool: pg.Pool): PostgresPool {
  const lost = new WeakMap<pg.PoolClient, unknown>();
  const views = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  pool.on('connect', (client) => {
    client.on('error', (err) => {
      // The first error is the cause (57P01, ECONNRESET…); 'Connection terminated' follows it.
      if (!lost.has(client)) lost.set(client, err);
    });
  });
  // An idle client's error: pg-pool has already dropped it, and the next checkout connects anew.
  pool.on('error', () => undefined);

  const fail = (client: pg.PoolClient, err: unknown): never => {
    if (lost.has(client)) throw new DatabaseUnavailableError(lost.get(client));
    if (!isConnectionFailure(err)) throw err;
    lost.set(client, err);
    throw new DatabaseUnavailableError(err);
  };

  function view(client: pg.PoolClient): PostgresPoolClient {
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
      // Cursors (streaming) report their own errors through read(); only plain statements are guarded.
      if (typeof sqlOrCursor !== 'string') return (client as unknown as { query(c: PostgresCursor<R>): PostgresCursor<R> }).query(sqlOrCursor);
      if (lost.has(client)) return Promise.reject(new DatabaseUnavailableError(lost.get(client)));
      return (client.query(sqlOrCursor, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>).catch((err: unknown) => fail(client, err));
    }
    return {
      query,
      release() {
        const err = lost.get(client);
        client.release(err === undefined ? undefined : err instanceof Error ? err : new Error(String(err)));
      },
    };
  }

  return {
    async connect() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw isConnectionFailure(err) ? new DatabaseUnavailableError(err) : err;
      }
      let v = views.get(client);
      if (!v) views.set(client, (v = view(client)));
      return v;
    },
    end: () => pool.end(),
  };
}
