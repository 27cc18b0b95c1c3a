import { sql, type Kysely, type Migration } from '@cloud-stack/db';

/**
 * The authorization code flow (RFC 6749 §4.1 with PKCE): clients register exact redirect URIs,
 * and codes are kept as SHA-256 with what they are bound to. A spent code stays (until a day
 * after it expired) so a second use is recognised and the tokens issued from it revoked.
 */
export const authorizationCodes: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE oauth_clients ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}'`.execute(db);
    await sql`CREATE TABLE authorization_codes (
      code_sha256 text PRIMARY KEY,
      client_id text NOT NULL,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      tenant_id text NOT NULL,
      redirect_uri text NOT NULL,
      code_challenge text NOT NULL,
      scope text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      family_id uuid,
      access_jti text,
      access_sha256 text,
      access_expires_at timestamptz
    )`.execute(db);
    await sql`CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`DROP TABLE IF EXISTS authorization_codes`.execute(db);
    await sql`ALTER TABLE oauth_clients DROP COLUMN IF EXISTS redirect_uris`.execute(db);
  },
};
