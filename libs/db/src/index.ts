export { createDb, ensureDatabase, createTestDatabase } from './connection';
export type { DbOptions, TestDatabase } from './connection';
export { DatabaseUnavailableError, isConnectionFailure } from './errors';
export { migrateToLatest, MigrationError } from './migrate';
export type { Migration } from './migrate';
export { sql } from 'kysely';
export type { Kysely } from 'kysely';
