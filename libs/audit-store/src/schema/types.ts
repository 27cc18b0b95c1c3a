import type { ColumnType, Generated } from 'kysely';
import type { AuditCategory } from '@cloud-stack/contracts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** `audit_events`: one row per event, partitioned by month on `occurred_at`. */
export interface AuditEventsTable {
  /** Insertion order across all partitions (bigserial); not the commit order. */
  seq: Generated<number>;
  event_id: string;
  category: AuditCategory;
  occurred_at: Timestamp;
  ingested_at: Generated<Timestamp>;
  correlation_id: string;
  causation_id: string | null;
  trace_id: string | null;
  tenant_id: string | null;
  user_id: string | null;
  client_id: string | null;
  agent_id: string | null;
  route_id: string | null;
  method: string;
  host: string;
  path: string;
  status: number;
  duration_ms: number;
  decision: ColumnType<AuditDecisionColumn | null, string | null, string | null>;
  sandbox_routed: boolean;
  trial_mode: boolean;
  upstream: string | null;
  ip: string | null;
  user_agent: string | null;
  error_code: string | null;
  /** AuditEvent.details: producer-specific JSON (migration `2026_11_22_200_audit_details`). */
  details: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}

export interface AuditDecisionColumn {
  allow: boolean;
  reasons: string[];
  policy: string | null;
  decision_id: string | null;
}

/** `audit_event_ids`: unpartitioned, so `event_id` is unique across every partition. */
export interface AuditEventIdsTable {
  event_id: string;
  occurred_at: Timestamp;
}

/** `audit_dead_letters`: what the writer could not store, with why. */
export interface AuditDeadLettersTable {
  id: Generated<number>;
  job_id: string | null;
  batch_id: string | null;
  event_id: string | null;
  /** The raw event or job payload as JSON text (text, not jsonb: it keeps what jsonb rejects). */
  payload: string;
  reason: string;
  failed_at: Generated<Timestamp>;
}

/** The write path's tables (the integrity side adds its own). */
export interface AuditWriteSchema {
  audit_events: AuditEventsTable;
  audit_event_ids: AuditEventIdsTable;
  audit_dead_letters: AuditDeadLettersTable;
}
