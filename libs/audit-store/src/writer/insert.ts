import { sql, type Kysely } from '@cloud-stack/db';
import type { AuditEvent } from '@cloud-stack/contracts';

export interface InsertResult {
  /** Rows new in audit_events. */
  readonly written: number;
  /** Events skipped because their event_id was already stored (redelivery, duplicates). */
  readonly duplicates: number;
}

/**
 * Stores `events` in ONE statement: the rows travel as one array per column (unnest), the ids go
 * first into audit_event_ids (ON CONFLICT DO NOTHING RETURNING), and only the ids that came back
 * are inserted into audit_events. A redelivered event therefore writes nothing new, even when its
 * occurred_at (the partition key) differs; two replicas inserting the same id serialize on the
 * primary key of audit_event_ids.
 */
export async function insertAuditEvents(db: Kysely<unknown>, events: readonly AuditEvent[]): Promise<InsertResult> {
  if (events.length === 0) return { written: 0, duplicates: 0 };
  const n = events.length;
  const col = <T>(pick: (e: AuditEvent) => T): T[] => {
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = pick(events[i]!);
    return out;
  };
  const result = await sql`WITH input AS (
      SELECT DISTINCT ON (event_id) * FROM unnest(
        ${col((e) => e.event_id)}::uuid[], ${col((e) => e.category)}::text[], ${col((e) => e.occurred_at)}::timestamptz[],
        ${col((e) => e.correlation_id)}::text[], ${col((e) => e.causation_id)}::text[], ${col((e) => e.trace_id)}::text[],
        ${col((e) => e.tenant_id)}::text[], ${col((e) => e.user_id)}::text[], ${col((e) => e.client_id)}::text[],
        ${col((e) => e.agent_id)}::text[], ${col((e) => e.route_id)}::text[], ${col((e) => e.method)}::text[],
        ${col((e) => e.host)}::text[], ${col((e) => e.path)}::text[], ${col((e) => e.status)}::int4[],
        ${col((e) => e.duration_ms)}::float8[], ${col((e) => (e.decision === null ? null : JSON.stringify(e.decision)))}::jsonb[],
        ${col((e) => e.sandbox_routed)}::bool[], ${col((e) => e.trial_mode)}::bool[], ${col((e) => e.upstream)}::text[],
        ${col((e) => e.ip)}::text[], ${col((e) => e.user_agent)}::text[], ${col((e) => e.error_code)}::text[],
        ${col((e) => (e.details == null ? null : JSON.stringify(e.details)))}::jsonb[]
      ) AS t(event_id, category, occurred_at, correlation_id, causation_id, trace_id, tenant_id, user_id, client_id, agent_id,
             route_id, method, host, path, status, duration_ms, decision, sandbox_routed, trial_mode, upstream, ip, user_agent, error_code,
             details)
      ORDER BY event_id
    ), fresh AS (
      INSERT INTO audit_event_ids (event_id, occurred_at)
      SELECT event_id, occurred_at FROM input
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id
    )
    INSERT INTO audit_events (event_id, category, occurred_at, correlation_id, causation_id, trace_id, tenant_id, user_id, client_id,
      agent_id, route_id, method, host, path, status, duration_ms, decision, sandbox_routed, trial_mode, upstream, ip, user_agent, error_code,
      details)
    SELECT i.event_id, i.category, i.occurred_at, i.correlation_id, i.causation_id, i.trace_id, i.tenant_id, i.user_id, i.client_id,
      i.agent_id, i.route_id, i.method, i.host, i.path, i.status, i.duration_ms, i.decision, i.sandbox_routed, i.trial_mode, i.upstream,
      i.ip, i.user_agent, i.error_code, i.details
    FROM input i JOIN fresh f USING (event_id)`.execute(db);
  const written = Number(result.numAffectedRows ?? 0n);
  return { written, duplicates: n - written };
}
