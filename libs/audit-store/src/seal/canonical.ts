import { createHash } from 'node:crypto';

/** UTC, microsecond precision, the way every timestamp is written into canonical forms. */
export function isoSql(expr: string): string {
  return `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * SQL for the canonical JSON of the event row aliased `a`: every AuditEvent field, as jsonb
 * rendered to text (PostgreSQL prints jsonb with keys in a fixed order and fixed spacing), with
 * timestamps in UTC at microsecond precision and numbers through `numeric`, so the text does not
 * depend on session settings (TimeZone, DateStyle, extra_float_digits).
 *
 * `details` (migration `…_200_audit_details`) is a member only when it is not null: a row without
 * details has exactly the canonical form (and row hash) it had before the column existed, so rows
 * sealed before that migration still verify, while details written since are covered by the hash.
 */
export function canonicalEventSql(a: string): string {
  return `(jsonb_build_object(
    'event_id', ${a}.event_id::text,
    'category', ${a}.category::text,
    'occurred_at', ${isoSql(`${a}.occurred_at`)},
    'correlation_id', ${a}.correlation_id,
    'causation_id', ${a}.causation_id,
    'trace_id', ${a}.trace_id,
    'tenant_id', ${a}.tenant_id,
    'user_id', ${a}.user_id,
    'client_id', ${a}.client_id,
    'agent_id', ${a}.agent_id,
    'route_id', ${a}.route_id,
    'method', ${a}.method,
    'host', ${a}.host,
    'path', ${a}.path,
    'status', ${a}.status::numeric,
    'duration_ms', ${a}.duration_ms::numeric,
    'decision', ${a}.decision::jsonb,
    'sandbox_routed', ${a}.sandbox_routed,
    'trial_mode', ${a}.trial_mode,
    'upstream', ${a}.upstream,
    'ip', ${a}.ip::text,
    'user_agent', ${a}.user_agent,
    'error_code', ${a}.error_code)
    || CASE WHEN ${a}.details IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('details', ${a}.details::jsonb) END)`;
}

/** SQL for SHA-256 (bytea) of the canonical JSON of row `a`: the leaf hash sealed per event. */
export function rowHashSql(a: string): string {
  return `sha256(convert_to((${canonicalEventSql(a)})::text, 'UTF8'))`;
}

/** The fields a digest signs, in the order they are serialised. */
export interface DigestBody {
  readonly digest_no: number;
  readonly interval_start: string;
  readonly interval_end: string;
  readonly row_count: number;
  readonly rows_hash: string;
  readonly prev_digest_hash: string | null;
  readonly key_id: string;
  readonly sealed_at: string;
}

export const DIGEST_VERSION = 'cloud-stack-audit-digest/1';

/** Canonical text of a digest: a JSON array in a fixed field order, so nothing depends on key order. */
export function digestPayload(d: DigestBody): string {
  return JSON.stringify([
    DIGEST_VERSION,
    d.digest_no,
    d.interval_start,
    d.interval_end,
    d.row_count,
    d.rows_hash,
    d.prev_digest_hash,
    d.key_id,
    d.sealed_at,
  ]);
}

/** hex SHA-256 of the canonical digest text; this is what the chain links and the key signs. */
export function digestHash(d: DigestBody): string {
  return createHash('sha256').update(digestPayload(d), 'utf8').digest('hex');
}
