import pg from 'pg';

/** Which sessions of the test server to cut. */
export interface BackendFilter {
  /** The database whose sessions are cut (the name, e.g. `new URL(db.url).pathname.slice(1)`). */
  readonly database: string;
  /** Only sessions with this application_name (createDb's `applicationName`). */
  readonly applicationName?: string;
  /** Only sessions in this state: `idle in transaction` is between two statements of a transaction. */
  readonly state?: 'active' | 'idle' | 'idle in transaction';
  /** Only sessions waiting for a lock (a statement held up by `holdLock`). */
  readonly waitingForLock?: boolean;
  /** Wait up to this long for a matching session to appear; none by then is an error. Default 0: cut what matches now. */
  readonly waitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * `pg_terminate_backend` for the matching sessions, from a session of its own on the server of
 * `adminUrl`: each client gets 57P01 "terminating connection due to administrator command", as in
 * a failover or a maintenance restart. Resolves with the number of sessions cut.
 */
export async function terminateBackends(adminUrl: string, filter: BackendFilter): Promise<number> {
  return withClient(adminUrl, async (client) => {
    const until = Date.now() + (filter.waitMs ?? 0);
    for (;;) {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            AND ($2::text IS NULL OR application_name = $2) AND ($3::text IS NULL OR state = $3)
            AND (NOT $4::bool OR wait_event_type = 'Lock')`,
        [filter.database, filter.applicationName ?? null, filter.state ?? null, filter.waitingForLock ?? false],
      );
      if (rows.length > 0 || Date.now() >= until) {
        if (rows.length === 0 && filter.waitMs) throw new Error(`no session matching ${JSON.stringify(filter)} appeared within ${filter.waitMs} ms`);
        for (const { pid } of rows) await client.query('SELECT pg_terminate_backend($1)', [pid]);
        return rows.length;
      }
      await sleep(20);
    }
  });
}

export interface HeldLock {
  /** Ends the transaction holding the lock. */
  release(): Promise<void>;
}

/**
 * Opens a transaction on `databaseUrl` and runs `statement` in it (e.g. `LOCK TABLE users IN
 * ACCESS EXCLUSIVE MODE`), holding whatever it locks until `release()`: a service's statement
 * that needs it waits, so a test can cut that service's connection at a known point.
 */
export async function holdLock(databaseUrl: string, statement: string): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'test-kit-lock' });
  await client.connect();
  await client.query('BEGIN');
  await client.query(statement);
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    },
  };
}
