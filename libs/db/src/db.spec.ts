import { afterAll, describe, expect, inject, it } from 'vitest';
import { sql, type Generated, type Kysely } from 'kysely';
import { createDb, createTestDatabase, ensureDatabase, migrateToLatest, MigrationError } from './index';

// test-kit's global set-up provides the server; test-kit itself builds on this lib, so no import.
declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
  }
}
const adminDatabaseUrl = () => inject('databaseUrl');

interface Schema {
  note: { id: Generated<number>; body: string };
}

const migrations = {
  '001_note': {
    up: async (db: Kysely<unknown>) => {
      await db.schema.createTable('note').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('body', 'text', (c) => c.notNull()).execute();
    },
  },
};

describe('db', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('gives each caller its own fresh database and migrates it once', async () => {
    const testDb = await createTestDatabase(adminDatabaseUrl(), 'db-spec');
    cleanup.push(() => testDb.drop());
    const db = createDb<Schema>(testDb.url, { max: 2 });
    cleanup.push(() => db.destroy());

    expect(await migrateToLatest(db as Kysely<unknown>, migrations)).toEqual(['001_note']);
    expect(await migrateToLatest(db as Kysely<unknown>, migrations)).toEqual([]);
    await db.insertInto('note').values({ body: 'hello' }).execute();
    const rows = await db.selectFrom('note').select(['id', 'body']).execute();
    expect(rows).toEqual([{ id: 1, body: 'hello' }]);
  });

  it('names the migration that failed', async () => {
    const testDb = await createTestDatabase(adminDatabaseUrl(), 'db-spec');
    cleanup.push(() => testDb.drop());
    const db = createDb<Schema>(testDb.url, { max: 1 });
    cleanup.push(() => db.destroy());
    const broken = { '001_bad': { up: async (d: Kysely<unknown>) => void (await sql`SELECT * FROM missing_table`.execute(d)) } };
    await expect(migrateToLatest(db as Kysely<unknown>, broken)).rejects.toThrow(MigrationError);
    await expect(migrateToLatest(db as Kysely<unknown>, broken)).rejects.toThrow(/migration 001_bad failed: relation "missing_table" does not exist/);
  });

  it('creates a missing database once and tolerates existing ones', async () => {
    const testDb = await createTestDatabase(adminDatabaseUrl(), 'db-spec');
    await testDb.drop();
    await ensureDatabase(testDb.url);
    await ensureDatabase(testDb.url);
    cleanup.push(() => testDb.drop());
    const db = createDb(testDb.url, { max: 1 });
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
    await db.destroy();
    expect(rows).toEqual([{ one: 1 }]);
  });
});
