import { sql, type Kysely, type Migration } from '@cloud-stack/db';

/** Tenants, users and roles, OAuth clients, signing keys, refresh tokens, revoked access tokens. */
export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE tenants (
      id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
      name text NOT NULL,
      is_platform boolean NOT NULL DEFAULT false,
      allowed_email_domains text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
    await sql`CREATE UNIQUE INDEX tenants_one_platform ON tenants (is_platform) WHERE is_platform`.execute(db);

    await sql`CREATE TABLE users (
      id uuid PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      email text NOT NULL UNIQUE CHECK (email = lower(email)),
      password_hash text NOT NULL,
      display_name text,
      is_governor boolean NOT NULL DEFAULT false,
      trial_mode boolean NOT NULL DEFAULT false,
      agent_id text,
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (NOT trial_mode OR agent_id IS NOT NULL)
    )`.execute(db);
    await sql`CREATE INDEX users_tenant ON users (tenant_id)`.execute(db);

    await sql`CREATE TABLE user_roles (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'developer', 'analyst', 'viewer', 'customer')),
      PRIMARY KEY (user_id, tenant_id, role)
    )`.execute(db);

    await sql`CREATE TABLE oauth_clients (
      client_id text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._-]{1,128}$'),
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      name text NOT NULL,
      client_type text NOT NULL CHECK (client_type IN ('confidential', 'public')),
      secret_hash text,
      grant_types text[] NOT NULL,
      scopes text[] NOT NULL DEFAULT '{}',
      roles text[] NOT NULL DEFAULT '{}',
      trusted boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
    )`.execute(db);
    await sql`CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id)`.execute(db);

    await sql`CREATE TABLE signing_keys (
      kid text PRIMARY KEY,
      algorithm text NOT NULL DEFAULT 'ES256',
      private_key_pem text NOT NULL,
      public_jwk jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('active', 'retired')),
      created_at timestamptz NOT NULL DEFAULT now(),
      retired_at timestamptz,
      CHECK ((status = 'retired') = (retired_at IS NOT NULL))
    )`.execute(db);
    await sql`CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active'`.execute(db);

    await sql`CREATE TABLE refresh_tokens (
      id uuid PRIMARY KEY,
      token_sha256 text NOT NULL UNIQUE,
      family_id uuid NOT NULL,
      client_id text NOT NULL,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      tenant_id text NOT NULL,
      scope text NOT NULL,
      access_jti text,
      access_sha256 text,
      access_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
    await sql`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`.execute(db);
    await sql`CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at)`.execute(db);

    await sql`CREATE TABLE revoked_tokens (
      jti text PRIMARY KEY,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
    await sql`CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at)`.execute(db);
    await sql`CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['revoked_tokens', 'refresh_tokens', 'signing_keys', 'oauth_clients', 'user_roles', 'users', 'tenants']) {
      await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
    }
  },
};
