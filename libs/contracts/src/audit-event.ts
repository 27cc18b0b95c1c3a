import { uuidv7 } from './ids';
import type { AuditCategory, AuditEventInput } from './audit';

/** What a producer knows about an event; everything else defaults to null/false. */
export interface AuditFacts {
  readonly category?: AuditCategory;
  readonly occurred_at?: Date | number;
  readonly correlation_id: string;
  readonly causation_id?: string | null;
  readonly trace_id?: string | null;
  readonly tenant_id?: string | null;
  readonly user_id?: string | null;
  readonly client_id?: string | null;
  readonly agent_id?: string | null;
  readonly route_id?: string | null;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly duration_ms: number;
  readonly decision?: { allow: boolean; reasons: readonly string[]; policy: string | null; decision_id: string | null } | null;
  readonly sandbox_routed?: boolean;
  readonly trial_mode?: boolean;
  readonly upstream?: string | null;
  readonly ip?: string | null;
  readonly user_agent?: string | null;
  readonly error_code?: string | null;
  readonly details?: Record<string, unknown> | null;
}

const cut = (s: string | null | undefined, max: number): string | null => (s === undefined || s === null || s === '' ? null : s.length > max ? s.slice(0, max) : s);
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * The one way to build an audit event: a fresh UUIDv7 id, and every text clamped to the limits of
 * AuditEventSchema, so an event made from request data (long paths, many reasons) is never
 * dead-lettered by the writer for its size.
 */
export function buildAuditEvent(f: AuditFacts): AuditEventInput {
  const at = f.occurred_at ?? Date.now();
  return {
    event_id: uuidv7(),
    category: f.category ?? 'request',
    occurred_at: (typeof at === 'number' ? new Date(at) : at).toISOString(),
    correlation_id: f.correlation_id.slice(0, 200),
    causation_id: cut(f.causation_id, 200),
    trace_id: f.trace_id && TRACE_ID.test(f.trace_id) ? f.trace_id : null,
    tenant_id: cut(f.tenant_id, 200),
    user_id: cut(f.user_id, 200),
    client_id: cut(f.client_id, 200),
    agent_id: cut(f.agent_id, 200),
    route_id: cut(f.route_id, 200),
    method: f.method.slice(0, 16),
    host: f.host.slice(0, 255),
    path: f.path.slice(0, 2048),
    status: Math.max(0, Math.min(999, Math.trunc(f.status))),
    duration_ms: Math.max(0, f.duration_ms),
    decision: f.decision
      ? {
          allow: f.decision.allow,
          reasons: f.decision.reasons.slice(0, 50).map((r) => r.slice(0, 500)),
          policy: cut(f.decision.policy, 200),
          decision_id: cut(f.decision.decision_id, 200),
        }
      : null,
    sandbox_routed: f.sandbox_routed ?? false,
    trial_mode: f.trial_mode ?? false,
    upstream: cut(f.upstream, 2048),
    ip: cut(f.ip, 64),
    user_agent: cut(f.user_agent, 1024),
    error_code: cut(f.error_code, 200),
    ...(f.details ? { details: f.details } : {}),
  };
}
