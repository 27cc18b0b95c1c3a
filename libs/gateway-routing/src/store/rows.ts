import type { Insertable, Selectable } from 'kysely';
import { RouteSpecSchema, type Route } from '../route';
import type { GatewayRoutesTable } from '../schema/tables';

export type RouteRow = Selectable<GatewayRoutesTable>;

export function toRow(version: number, r: Route): Insertable<GatewayRoutesTable> {
  return {
    route_version: version,
    route_id: r.id,
    target_backend: r.product,
    hosts: r.hosts,
    source_path: r.path,
    methods: r.methods,
    target_url: r.upstream,
    trial_sandbox_url: r.sandbox_upstream,
    strip_prefix: r.strip_prefix,
    middleware_stack: r.stages,
    permission: r.permission,
    requires_governor: r.requires_governor,
    cost: r.cost,
    rate_limit_per_minute: r.rate_limit.per_minute,
    rate_limit_per_hour: r.rate_limit.per_hour,
    required_policy: r.policy,
    timeout_ms: r.timeout_ms,
    failure_modes: JSON.stringify(r.failure),
    cors_origins: r.cors_origins,
    websocket_allowed: r.websocket,
  };
}

/** Parsed again on the way out, so a row edited by hand cannot hand the matcher a route the schema refuses. */
export function fromRow(row: RouteRow): Route {
  return RouteSpecSchema.parse({
    id: row.route_id,
    product: row.target_backend,
    hosts: row.hosts,
    path: row.source_path,
    methods: row.methods,
    upstream: row.target_url,
    sandbox_upstream: row.trial_sandbox_url,
    strip_prefix: row.strip_prefix,
    stages: row.middleware_stack,
    permission: row.permission,
    requires_governor: row.requires_governor,
    cost: row.cost,
    rate_limit: { per_minute: row.rate_limit_per_minute, per_hour: row.rate_limit_per_hour },
    policy: row.required_policy,
    timeout_ms: row.timeout_ms,
    failure: row.failure_modes,
    cors_origins: row.cors_origins,
    websocket: row.websocket_allowed,
  });
}
