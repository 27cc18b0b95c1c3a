import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer } from 'node:net';
import pg from 'pg';
import { createDb, createTestDatabase, DatabaseUnavailableError, isConnectionFailure, sql, type Kysely, type TestDatabase } from './index';

// test-kit's global set-up provides the server; test-kit itself builds on this lib, so no import.
declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
  }
}

let testDb: TestDatabase;
let admin: pg.Client;
const dbs: Kysely<unknown>[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase(inject('databaseUrl'), 'db-cut');
  admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
});
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await admin?.end();
  await testDb?.drop();
});

function open(max = 2): Kysely<unknown> {
  const db = createDb<unknown>(testDb.url, { max, applicationName: 'db-cut-spec' });
  dbs.push(db);
  return db;
}

const backendPid = async (db: Kysely<unknown>) => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);
// Long enough for the server's 57P01 and the socket's end to reach the client before the next statement.
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('a connection cut while a client is checked out', () => {
  it('rejects the transaction it was in with DatabaseUnavailableError (57P01), and the process goes on', async () => {
    const db = open();
    const outcome = db.transaction().execute(async (trx) => {
      await terminate(await backendPid(trx));
      await settle();
      return sql`SELECT 1`.execute(trx);
    });
    const err = await outcome.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(err).toMatchObject({ code: '57P01', status: 503, message: expect.stringMatching(/terminating connection due to administrator command/) });
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it('never lends the broken client out again', async () => {
    const db = open(1);
    let cutPid = 0;
    await db
      .transaction()
      .execute(async (trx) => {
        cutPid = await backendPid(trx);
        await terminate(cutPid);
        await settle();
        await sql`SELECT 1`.execute(trx);
      })
      .catch(() => undefined);
    const next = await backendPid(db);
    expect(next).not.toBe(cutPid);
    expect(await backendPid(db)).toBe(next);
  });

  it('rejects a statement whose connection is cut while it runs', async () => {
    const db = open();
    const pidBox: number[] = [];
    // The rejection is caught at once: it may arrive while `terminate` is still awaited.
    const outcome = db
      .connection()
      .execute(async (conn) => {
        pidBox.push(await backendPid(conn));
        return sql`SELECT pg_sleep(30)`.execute(conn);
      })
      .catch((err: unknown) => err);
    for (let i = 0; i < 100 && pidBox.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await settle();
    await terminate(pidBox[0]!);
    expect(await outcome).toBeInstanceOf(DatabaseUnavailableError);
    await settle();
    expect(await backendPid(db)).not.toBe(pidBox[0]);
  });
});

describe('errors that are not the connection', () => {
  it('leaves a statement error as PostgreSQL reported it', async () => {
    const err = await sql`SELEC 1`.execute(open()).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(err).toMatchObject({ code: '42601' });
  });

  it('reports an unreachable server as DatabaseUnavailableError', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const db = createDb<unknown>(`postgres://postgres@127.0.0.1:${port}/nothing`, { max: 1 });
    dbs.push(db);
    await expect(sql`SELECT 1`.execute(db)).rejects.toMatchObject({ name: 'DatabaseUnavailableError', code: 'ECONNREFUSED' });
  });

  it.each([
    [{ code: '57P01' }, true],
    [{ code: '08006' }, true],
    [{ code: '53300' }, true],
    [{ code: 'ECONNRESET' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [new Error('timeout exceeded when trying to connect'), true],
    [{ code: '23505' }, false],
    [{ code: '40P01' }, false],
    [{ code: '42P01' }, false],
    [new Error('Cannot use a pool after calling end on the pool'), false],
  ])('classifies %o as a connection failure: %s', (err, expected) => {
    expect(isConnectionFailure(err)).toBe(expected);
  });
});
