// The shapes of the gateway's and the audit-writer's answers that the console reads.

export const STAGES = ['auth', 'policy', 'rate_limit', 'budget', 'audit'] as const;
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface Route {
  id: string;
  product: string | null;
  hosts: string[];
  path: string;
  methods: string[];
  upstream: string;
  sandbox_upstream: string | null;
  strip_prefix: string | null;
  stages: string[];
  permission: string;
  requires_governor: boolean;
  cost: number;
  rate_limit: { per_minute: number | null; per_hour: number | null };
  timeout_ms: number;
  [field: string]: unknown;
}

export interface RouteVersion {
  version: number;
  status: 'draft' | 'active' | 'retired';
  source: string;
  note: string;
  created_by: string | null;
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
  parent_version: number | null;
  route_count: number;
}

export interface RouteVersionWithRoutes extends RouteVersion {
  routes: Route[];
}

export interface RouteDiff {
  from: number;
  to: number;
  added: Route[];
  removed: Route[];
  changed: { id: string; fields: Record<string, { from: unknown; to: unknown }> }[];
}

export interface Proposal extends RouteVersion {
  added: Route[];
  removed: Route[];
  changed: number;
}

export interface Me {
  subject: { sub: string | null; tenant_id: string | null; roles: string[]; governor?: boolean; [k: string]: unknown };
  permissions: { read: boolean; admin: boolean };
}

export interface UpstreamHealth {
  origin?: string;
  url?: string;
  state?: string;
  status?: string;
  since?: string | null;
  last_checked?: string | null;
  last_error?: string | null;
  [k: string]: unknown;
}

export interface TrafficPoint {
  at: string;
  requests: Record<string, Record<string, number>>;
  latency_ms: { p50: number | null; p99: number | null };
  decisions: { allow: number; deny: number };
  rate_limited: number;
  audit_dropped: number;
}

export interface Traffic {
  step_seconds: number;
  points: TrafficPoint[];
}

export interface PolicyInfo {
  mode: string;
  revision: string | null;
  modules: { id: string; path?: string; raw: string }[];
}

export interface PolicyEvaluation {
  input: unknown;
  result: { allow: boolean; reasons?: string[]; obligations?: Record<string, unknown>; policy?: string; [k: string]: unknown };
}

export interface AuditEvent {
  event_id: string;
  category: string;
  occurred_at: string;
  correlation_id: string;
  causation_id?: string | null;
  tenant_id: string | null;
  user_id: string | null;
  route_id: string | null;
  method?: string | null;
  path?: string | null;
  status: number | null;
  service?: string | null;
  duration_ms?: number | null;
  decision: { allow: boolean; reasons?: string[]; policy?: string | null } | null;
  error_code?: string | null;
  upstream?: string | null;
  depth?: number;
  [k: string]: unknown;
}

export interface RowFinding {
  ids: string[];
  count: number;
}

export interface VerifyReport {
  ok: boolean;
  from: string;
  to: string;
  digests_checked: number;
  rows_checked: number;
  rows_modified: RowFinding;
  rows_deleted: RowFinding;
  rows_inserted_after_sealing: RowFinding;
  broken_chain_links: number[];
  bad_signatures: number[];
  altered_row_hashes?: number[];
  pruned_by_retention?: { digest_no: number; interval_start: string; interval_end: string; rows_pruned: number }[];
  unsealed_rows: number;
}
