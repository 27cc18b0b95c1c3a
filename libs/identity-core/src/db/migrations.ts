import { migrateToLatest, type Kysely, type Migration } from '@cloud-stack/db';
import { initial } from './migrations/0001-initial';
import { subjectRevocations } from './migrations/0002-subject-revocations';
import { authorizationCodes } from './migrations/0003-authorization-codes';
import type { IdentityDatabase } from './schema';

/** identity's migrations by name; names sort in the order they apply. */
export const identityMigrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-subject-revocations': subjectRevocations,
  '0003-authorization-codes': authorizationCodes,
};

export function migrateIdentity(db: Kysely<IdentityDatabase>): Promise<string[]> {
  return migrateToLatest(db as unknown as Kysely<unknown>, identityMigrations);
}
