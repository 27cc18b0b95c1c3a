import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { guardPool } from './guarded-pool';

// BIGINT (int8) arrives as a string by default; counts and sequence numbers here fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface DbOptions {
  /** Pool size; PostgreSQL connections are the scarce resource on a small server. */
  readonly max?: number;
  readonly applicationName?: string;
}

/**
 * A Kysely instance over a pg Pool for `url` (a postgres:// connection string). A lost
 * connection (restart, failover, terminated backend) rejects the statement that meets it with
 * DatabaseUnavailableError, whether the client was idle or inside a transaction; the process
 * never sees it as an uncaught 'error'.
 */
export function createDb<Schema>(url: string, options: DbOptions = {}): Kysely<Schema> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  return new Kysely<Schema>({ dialect: new PostgresDialect({ pool: guardPool(pool) }) });
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new TypeError(`unsupported database name in ${url}`);
  return name;
}

async function withAdminClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `url` when it does not exist yet (for first start-up). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  await withAdminClient(url, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // Two services starting together may race to create it.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
  });
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the server of `adminUrl`, for one test file or one benchmark run. */
export async function createTestDatabase(adminUrl: string, label = 't'): Promise<TestDatabase> {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 20);
  const name = `${safe}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdminClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => withAdminClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
