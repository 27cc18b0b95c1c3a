import { ensureDatabase, migrateToLatest, type Kysely } from '@cloud-stack/db';
import { auditIntegrityMigrations, auditSchemaMigrations } from '@cloud-stack/audit-store';

/** The write path's migrations, then the integrity side's (names sort in that order). */
export const auditMigrations = { ...auditSchemaMigrations, ...auditIntegrityMigrations };

export async function migrateAudit(url: string, db: Kysely<unknown>): Promise<string[]> {
  await ensureDatabase(url);
  return migrateToLatest(db, auditMigrations);
}
