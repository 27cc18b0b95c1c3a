import { sql, type Kysely, type Migration } from '@cloud-stack/db';

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE gateway_route_versions (
      version serial PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
      source text NOT NULL CHECK (source IN ('admin', 'file', 'discovery')),
      note text NOT NULL DEFAULT '',
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz,
      retired_at timestamptz,
      parent_version integer REFERENCES gateway_route_versions (version) ON DELETE SET NULL,
      CHECK (status <> 'active' OR (activated_at IS NOT NULL AND retired_at IS NULL)),
      CHECK (status <> 'retired' OR (activated_at IS NOT NULL AND retired_at IS NOT NULL))
    )`.execute(db);
    // The one live route set: a second active row cannot be written, even by a racing activation.
    await sql`CREATE UNIQUE INDEX gateway_route_versions_one_active ON gateway_route_versions ((true)) WHERE status = 'active'`.execute(db);
    await sql`CREATE INDEX gateway_route_versions_retired ON gateway_route_versions (retired_at DESC) WHERE status = 'retired'`.execute(db);

    await sql`CREATE TABLE gateway_routes (
      route_version integer NOT NULL REFERENCES gateway_route_versions (version) ON DELETE CASCADE,
      route_id text NOT NULL,
      target_backend text,
      hosts text[] NOT NULL DEFAULT '{}',
      source_path text NOT NULL,
      methods text[] NOT NULL DEFAULT '{}',
      target_url text NOT NULL,
      trial_sandbox_url text,
      strip_prefix text,
      middleware_stack text[] NOT NULL,
      permission text NOT NULL DEFAULT '',
      requires_governor boolean NOT NULL DEFAULT false,
      cost double precision NOT NULL DEFAULT 0 CHECK (cost >= 0),
      rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0),
      rate_limit_per_hour integer CHECK (rate_limit_per_hour > 0),
      required_policy text NOT NULL,
      timeout_ms integer NOT NULL CHECK (timeout_ms > 0),
      failure_modes jsonb NOT NULL,
      cors_origins text[] NOT NULL DEFAULT '{}',
      websocket_allowed boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (route_version, route_id)
    )`.execute(db);

    // Only drafts change: a version that has been live is kept as it was, so rollback restores it exactly.
    await sql`CREATE FUNCTION gateway_routes_draft_only() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.route_version ELSE NEW.route_version END;
    BEGIN
      IF (SELECT status FROM gateway_route_versions WHERE version = v) <> 'draft' THEN
        RAISE EXCEPTION 'route version % is not a draft', v USING ERRCODE = 'check_violation';
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$`.execute(db);
    await sql`CREATE TRIGGER gateway_routes_draft_only BEFORE INSERT OR UPDATE OR DELETE ON gateway_routes
      FOR EACH ROW EXECUTE FUNCTION gateway_routes_draft_only()`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`DROP TABLE gateway_routes`.execute(db);
    await sql`DROP FUNCTION gateway_routes_draft_only()`.execute(db);
    await sql`DROP TABLE gateway_route_versions`.execute(db);
  },
};

/** The gateway's route tables, for migrateToLatest; names sort in the order they apply. */
export const gatewayRoutingMigrations: Readonly<Record<string, Migration>> = {
  '2026_12_02_100_gateway_routes': initial,
};
