import { sql, type Kysely, type Migration } from '@cloud-stack/db';

/**
 * Subject-wide revocations ("not before", as Keycloak pushes them): every access token of `sub`
 * issued before `not_before` is inactive. A row matters until the last such token has expired.
 */
export const subjectRevocations: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE subject_revocations (
      sub text PRIMARY KEY,
      not_before timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
    await sql`CREATE INDEX subject_revocations_revoked_at ON subject_revocations (revoked_at)`.execute(db);
    await sql`CREATE INDEX subject_revocations_expires ON subject_revocations (expires_at)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`DROP TABLE IF EXISTS subject_revocations`.execute(db);
  },
};
