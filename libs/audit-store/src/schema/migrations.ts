import { sql, type Kysely, type Migration } from '@cloud-stack/db';
import { AUDIT_ROLES } from './roles';

const { writer, reader, platformAuditor } = AUDIT_ROLES;
const role = (name: string) => sql.raw(`"${name}"`);
const literal = (value: string) => sql.raw(`'${value.replace(/'/g, "''")}'`);

/**
 * Creates a role unless it exists. Roles are cluster-global and test databases migrate in
 * parallel on one server, so a concurrent CREATE ROLE (unique_violation) counts as success; a
 * migration user without CREATEROLE leaves it to the operator (grants to missing roles are skipped).
 */
async function ensureRole(db: Kysely<unknown>, name: string): Promise<void> {
  await sql`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(name)}) THEN
      BEGIN
        CREATE ROLE ${role(name)} NOLOGIN;
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role %: create it as an administrator', ${literal(name)};
      END;
    END IF;
  END $$`.execute(db);
}

/** Runs `statement` only when `name` exists (see ensureRole). */
async function ifRole(db: Kysely<unknown>, name: string, statement: string): Promise<void> {
  await sql`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(name)}) THEN
      EXECUTE ${literal(statement)};
    END IF;
  END $$`.execute(db);
}

const writePath: Migration = {
  async up(db: Kysely<unknown>) {
    for (const name of [writer, reader, platformAuditor]) await ensureRole(db, name);

    await sql`CREATE TABLE audit_events (
      seq bigserial NOT NULL,
      event_id uuid NOT NULL,
      category text NOT NULL,
      occurred_at timestamptz NOT NULL,
      ingested_at timestamptz NOT NULL DEFAULT now(),
      correlation_id text NOT NULL,
      causation_id text,
      trace_id text,
      tenant_id text,
      user_id text,
      client_id text,
      agent_id text,
      route_id text,
      method text NOT NULL,
      host text NOT NULL,
      path text NOT NULL,
      status integer NOT NULL,
      duration_ms double precision NOT NULL,
      decision jsonb,
      sandbox_routed boolean NOT NULL,
      trial_mode boolean NOT NULL,
      upstream text,
      ip text,
      user_agent text,
      error_code text,
      PRIMARY KEY (event_id, occurred_at)
    ) PARTITION BY RANGE (occurred_at)`.execute(db);

    // Indexes of the read API's filters (each partition inherits them).
    await sql`CREATE INDEX audit_events_time ON audit_events (occurred_at, event_id)`.execute(db);
    await sql`CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at, event_id)`.execute(db);
    await sql`CREATE INDEX audit_events_correlation ON audit_events (correlation_id)`.execute(db);
    await sql`CREATE INDEX audit_events_causation ON audit_events (causation_id) WHERE causation_id IS NOT NULL`.execute(db);
    await sql`CREATE INDEX audit_events_user_time ON audit_events (user_id, occurred_at) WHERE user_id IS NOT NULL`.execute(db);
    await sql`CREATE INDEX audit_events_route_time ON audit_events (route_id, occurred_at) WHERE route_id IS NOT NULL`.execute(db);
    await sql`CREATE INDEX audit_events_status_time ON audit_events (status, occurred_at)`.execute(db);

    // event_id is unique across partitions through this unpartitioned table: the writer inserts
    // here first (ON CONFLICT DO NOTHING RETURNING) and stores only the events that came back,
    // so a redelivered event writes nothing, whatever its occurred_at says.
    await sql`CREATE TABLE audit_event_ids (
      event_id uuid PRIMARY KEY,
      occurred_at timestamptz NOT NULL
    )`.execute(db);

    await sql`CREATE TABLE audit_dead_letters (
      id bigserial PRIMARY KEY,
      job_id text,
      batch_id text,
      event_id text,
      payload text NOT NULL,
      reason text NOT NULL,
      failed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
    await sql`CREATE INDEX audit_dead_letters_failed_at ON audit_dead_letters (failed_at)`.execute(db);

    // Monthly partitions, created ahead by audit_ensure_partitions (the writer calls it at start,
    // every few hours, and for any month a batch needs). SECURITY DEFINER: the writer role needs
    // no DDL rights. A month already covered (other name, other replica) is skipped.
    await sql`CREATE FUNCTION audit_ensure_partitions(from_ts timestamptz, to_ts timestamptz)
      RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
      DECLARE
        m timestamptz := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        stop timestamptz := to_ts;
        next_m timestamptz;
        part text;
        created integer := 0;
        schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'audit_events'::regclass);
      BEGIN
        WHILE m <= stop LOOP
          next_m := (((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');
          part := 'audit_events_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM');
          IF to_regclass(format('%I.%I', schema_name, part)) IS NULL THEN
            BEGIN
              EXECUTE format('CREATE TABLE %I.%I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                schema_name, part, m, next_m);
              EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', schema_name, part);
              created := created + 1;
            EXCEPTION
              WHEN duplicate_table OR unique_violation THEN NULL;
              WHEN invalid_object_definition THEN NULL; -- overlaps an existing partition
            END;
          END IF;
          m := next_m;
        END LOOP;
        RETURN created;
      END $fn$`.execute(db);
    await sql`REVOKE ALL ON FUNCTION audit_ensure_partitions(timestamptz, timestamptz) FROM PUBLIC`.execute(db);
    await sql`SELECT audit_ensure_partitions(now() - interval '1 month', now() + interval '3 months')`.execute(db);

    // Row-level security: readers see their tenant (SET app.tenant_id), platform auditors all
    // rows, the writer only inserts. The table owner (migrations) is not subject to it.
    await sql`ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE audit_dead_letters ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`REVOKE ALL ON audit_events, audit_event_ids, audit_dead_letters FROM PUBLIC`.execute(db);

    await ifRole(db, reader, `CREATE POLICY audit_events_tenant_read ON audit_events FOR SELECT TO "${reader}"
      USING (tenant_id = current_setting('app.tenant_id', true))`);
    await ifRole(db, reader, `GRANT SELECT ON audit_events TO "${reader}"`);

    await ifRole(db, platformAuditor, `CREATE POLICY audit_events_platform_read ON audit_events FOR SELECT TO "${platformAuditor}" USING (true)`);
    await ifRole(db, platformAuditor, `CREATE POLICY audit_dead_letters_platform_read ON audit_dead_letters FOR SELECT TO "${platformAuditor}" USING (true)`);
    await ifRole(db, platformAuditor, `GRANT SELECT ON audit_events, audit_dead_letters TO "${platformAuditor}"`);

    await ifRole(db, writer, `CREATE POLICY audit_events_writer_insert ON audit_events FOR INSERT TO "${writer}" WITH CHECK (true)`);
    await ifRole(db, writer, `CREATE POLICY audit_dead_letters_writer_insert ON audit_dead_letters FOR INSERT TO "${writer}" WITH CHECK (true)`);
    await ifRole(db, writer, `GRANT INSERT ON audit_events, audit_dead_letters TO "${writer}"`);
    // RETURNING event_id needs SELECT on that column; ids carry no tenant data.
    await ifRole(db, writer, `GRANT INSERT, SELECT ON audit_event_ids TO "${writer}"`);
    await ifRole(db, writer, `GRANT USAGE ON SEQUENCE audit_events_seq_seq, audit_dead_letters_id_seq TO "${writer}"`);
    await ifRole(db, writer, `GRANT EXECUTE ON FUNCTION audit_ensure_partitions(timestamptz, timestamptz) TO "${writer}"`);
  },
  async down(db: Kysely<unknown>) {
    await sql`DROP FUNCTION IF EXISTS audit_ensure_partitions(timestamptz, timestamptz)`.execute(db);
    await sql`DROP TABLE IF EXISTS audit_dead_letters, audit_event_ids, audit_events`.execute(db);
  },
};

/**
 * `details jsonb`: producer-specific structured data (AuditEvent.details, e.g. the policy
 * sidecar's OPA decision log). Added to audit_events (its partitions inherit it) and, when the
 * integrity side is installed, to audit_events_archive and the audit_events_all view, whose
 * `SELECT *` was expanded when it was created. Appending the column keeps the view's existing
 * columns in place, so CREATE OR REPLACE VIEW keeps its grants.
 */
const details: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE audit_events ADD COLUMN details jsonb`.execute(db);
    await sql`DO $$ BEGIN
      IF to_regclass('audit_events_archive') IS NOT NULL THEN
        ALTER TABLE audit_events_archive ADD COLUMN details jsonb;
      END IF;
      IF to_regclass('audit_events_all') IS NOT NULL THEN
        CREATE OR REPLACE VIEW audit_events_all WITH (security_invoker = true) AS
          SELECT * FROM audit_events UNION ALL SELECT * FROM audit_events_archive;
      END IF;
    END $$`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`DO $$ BEGIN
      IF to_regclass('audit_events_all') IS NULL THEN
        ALTER TABLE audit_events DROP COLUMN details;
      ELSE
        DROP VIEW audit_events_all;
        ALTER TABLE audit_events DROP COLUMN details;
        ALTER TABLE audit_events_archive DROP COLUMN details;
        CREATE VIEW audit_events_all WITH (security_invoker = true) AS
          SELECT * FROM audit_events UNION ALL SELECT * FROM audit_events_archive;
        REVOKE ALL ON audit_events_all FROM PUBLIC;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(reader)}) THEN GRANT SELECT ON audit_events_all TO ${role(reader)}; END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(platformAuditor)}) THEN GRANT SELECT ON audit_events_all TO ${role(platformAuditor)}; END IF;
      END IF;
    END $$`.execute(db);
  },
};

/**
 * The write path's migrations (audit_events, audit_event_ids, audit_dead_letters, roles, RLS,
 * partition function). `…_010_…` sorts before the integrity side's (`2026_11_22_100_…`);
 * `…_200_audit_details` after it (and also works without it: the write path alone).
 */
export const auditSchemaMigrations: Readonly<Record<string, Migration>> = {
  '2026_11_22_010_audit_write_path': writePath,
  '2026_11_22_200_audit_details': details,
};
