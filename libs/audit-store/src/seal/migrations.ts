import { sql, type Kysely, type Migration } from '@cloud-stack/db';

/**
 * Tamper evidence and retention tables, built on the write path's `audit_events` (partitioned by
 * month) and roles. Names sort after the write path's migrations.
 */
const integrity: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE audit_signing_keys (
      key_id text PRIMARY KEY,
      algorithm text NOT NULL DEFAULT 'Ed25519',
      public_key_pem text NOT NULL,
      private_key_pem text,
      source text NOT NULL CHECK (source IN ('env', 'dev-generated')),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((source = 'dev-generated') = (private_key_pem IS NOT NULL))
    )`.execute(db);
    await sql`CREATE UNIQUE INDEX audit_signing_keys_one_dev_key ON audit_signing_keys (source) WHERE source = 'dev-generated'`.execute(db);

    await sql`CREATE TABLE audit_digests (
      digest_no bigint PRIMARY KEY CHECK (digest_no >= 1),
      interval_start timestamptz NOT NULL UNIQUE,
      interval_end timestamptz NOT NULL,
      row_count bigint NOT NULL CHECK (row_count >= 0),
      rows_hash text NOT NULL,
      prev_digest_hash text UNIQUE,
      digest_hash text NOT NULL UNIQUE,
      signature text NOT NULL,
      key_id text NOT NULL,
      sealed_at timestamptz NOT NULL,
      CHECK (interval_end > interval_start),
      CHECK ((digest_no = 1) = (prev_digest_hash IS NULL))
    )`.execute(db);

    await sql`CREATE TABLE audit_row_hashes (
      interval_start timestamptz NOT NULL,
      occurred_at timestamptz NOT NULL,
      event_id uuid NOT NULL,
      category text NOT NULL,
      tenant_id text,
      row_hash bytea NOT NULL,
      PRIMARY KEY (interval_start, occurred_at, event_id)
    )`.execute(db);
    await sql`CREATE INDEX audit_row_hashes_event_id ON audit_row_hashes (event_id)`.execute(db);

    await sql`CREATE TABLE audit_retention_log (
      id bigserial PRIMARY KEY,
      source_table text NOT NULL,
      partition_name text,
      range_start timestamptz NOT NULL,
      range_end timestamptz NOT NULL,
      categories text[] NOT NULL,
      rows_pruned bigint NOT NULL DEFAULT 0,
      rows_archived bigint NOT NULL DEFAULT 0,
      pruned_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

    // Long-retention rows of a dropped monthly partition live on here, byte for byte.
    await sql`CREATE TABLE audit_events_archive (LIKE audit_events INCLUDING DEFAULTS)`.execute(db);
    await sql`ALTER TABLE audit_events_archive ADD PRIMARY KEY (event_id)`.execute(db);
    await sql`CREATE INDEX audit_events_archive_time ON audit_events_archive (occurred_at, event_id)`.execute(db);
    await sql`CREATE INDEX audit_events_archive_tenant_time ON audit_events_archive (tenant_id, occurred_at, event_id)`.execute(db);
    await sql`CREATE INDEX audit_events_archive_correlation ON audit_events_archive (correlation_id)`.execute(db);

    // Same row-level security as audit_events: copy its flags and policies.
    await sql`DO $$
      DECLARE p record; flags record;
      BEGIN
        SELECT relrowsecurity, relforcerowsecurity INTO flags FROM pg_class WHERE oid = 'audit_events'::regclass;
        IF flags.relrowsecurity THEN EXECUTE 'ALTER TABLE audit_events_archive ENABLE ROW LEVEL SECURITY'; END IF;
        IF flags.relforcerowsecurity THEN EXECUTE 'ALTER TABLE audit_events_archive FORCE ROW LEVEL SECURITY'; END IF;
        FOR p IN SELECT * FROM pg_policies WHERE schemaname = current_schema() AND tablename = 'audit_events' LOOP
          EXECUTE format('CREATE POLICY %I ON audit_events_archive AS %s FOR %s TO %s %s %s',
            p.policyname, p.permissive, p.cmd,
            (SELECT string_agg(quote_ident(r), ', ') FROM unnest(p.roles) AS r),
            CASE WHEN p.qual IS NULL THEN '' ELSE 'USING (' || p.qual || ')' END,
            CASE WHEN p.with_check IS NULL THEN '' ELSE 'WITH CHECK (' || p.with_check || ')' END);
        END LOOP;
      END $$`.execute(db);

    // Every read (API, seal, verify) goes through this view; security_invoker keeps RLS in force.
    await sql`CREATE VIEW audit_events_all WITH (security_invoker = true) AS
      SELECT * FROM audit_events UNION ALL SELECT * FROM audit_events_archive`.execute(db);

    await sql`REVOKE ALL ON audit_signing_keys, audit_digests, audit_row_hashes, audit_retention_log, audit_events_archive FROM PUBLIC`.execute(db);
    await sql`REVOKE ALL ON audit_events_all FROM PUBLIC`.execute(db);
    await sql`DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_reader') THEN
          REVOKE ALL ON audit_digests, audit_row_hashes, audit_retention_log, audit_signing_keys FROM audit_reader;
          GRANT SELECT ON audit_events_archive, audit_events_all TO audit_reader;
          GRANT SELECT (key_id, algorithm, public_key_pem, source, created_at) ON audit_signing_keys TO audit_reader;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_writer') THEN
          REVOKE ALL ON audit_digests, audit_row_hashes, audit_retention_log, audit_signing_keys, audit_events_archive FROM audit_writer;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_platform_auditor') THEN
          GRANT SELECT ON audit_events_archive, audit_events_all, audit_digests, audit_retention_log TO audit_platform_auditor;
          GRANT SELECT (key_id, algorithm, public_key_pem, source, created_at) ON audit_signing_keys TO audit_platform_auditor;
        END IF;
      END $$`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`DROP VIEW IF EXISTS audit_events_all`.execute(db);
    await sql`DROP TABLE IF EXISTS audit_events_archive, audit_retention_log, audit_row_hashes, audit_digests, audit_signing_keys`.execute(db);
  },
};

/** Merged by the audit-writer after the write path's migrations. */
export const auditIntegrityMigrations: Readonly<Record<string, Migration>> = {
  '2026_11_22_100_audit_integrity': integrity,
};
