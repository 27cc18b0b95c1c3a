import type { ColumnType, Generated } from 'kysely';
import type { FailureMode } from '../route';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type TextArray = ColumnType<string[], string[], string[]>;

export const VERSION_STATUSES = ['draft', 'active', 'retired'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];
export const VERSION_SOURCES = ['admin', 'file', 'discovery'] as const;
export type VersionSource = (typeof VERSION_SOURCES)[number];

export interface GatewayRouteVersionsTable {
  version: Generated<number>;
  status: VersionStatus;
  source: VersionSource;
  note: string;
  created_by: string | null;
  created_at: CreatedAt;
  activated_at: Date | null;
  /** When it stopped being the active version: the most recent one is what rollback returns to. */
  retired_at: Date | null;
  parent_version: number | null;
}

/** One route of one version; column names follow the platform's gap analysis where it named them. */
export interface GatewayRoutesTable {
  route_version: number;
  route_id: string;
  target_backend: string | null;
  hosts: TextArray;
  source_path: string;
  /** Empty = every method. */
  methods: TextArray;
  target_url: string;
  trial_sandbox_url: string | null;
  strip_prefix: string | null;
  middleware_stack: TextArray;
  permission: string;
  requires_governor: boolean;
  cost: number;
  rate_limit_per_minute: number | null;
  rate_limit_per_hour: number | null;
  required_policy: string;
  timeout_ms: number;
  failure_modes: ColumnType<Record<'policy' | 'rate_limit' | 'budget', FailureMode>, string, string>;
  cors_origins: TextArray;
  websocket_allowed: boolean;
  created_at: CreatedAt;
}

export interface GatewayRoutingDatabase {
  gateway_route_versions: GatewayRouteVersionsTable;
  gateway_routes: GatewayRoutesTable;
}
