import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

export type { Migration } from 'kysely';

export class MigrationError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

/**
 * Brings the schema up to date. Migrations are passed as a name → module map (not read from a
 * folder) so they survive bundling; names sort in the order they apply.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Readonly<Record<string, Migration>>,
  options: { tableName?: string } = {},
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    migrationTableName: options.tableName ?? 'kysely_migration',
    migrationLockTableName: `${options.tableName ?? 'kysely_migration'}_lock`,
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationError(`migration ${failed?.migrationName ?? '?'} failed: ${String((result.error as Error).message ?? result.error)}`, result.error);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
