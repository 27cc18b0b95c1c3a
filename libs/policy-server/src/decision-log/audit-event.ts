import { uuidv7, type AuditEventInput } from '@cloud-stack/contracts';
import type { DecisionLogEntry } from './types';

/** An audit event of category `policy_decision` that carries the OPA-shaped entry under `details.decision_log`. */
export type DecisionAuditEvent = AuditEventInput & { readonly details: { readonly decision_log: DecisionLogEntry } };

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown, max: number): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

/**
 * Maps a decision log entry onto the shared audit event (contracts' AuditEvent), reading the
 * subject, route and request from the (already masked) gateway input when they are there.
 */
export function toAuditEvent(entry: DecisionLogEntry): DecisionAuditEvent {
  const input = obj(entry.input);
  const request = obj(input.request);
  const subject = obj(input.subject);
  const route = obj(input.route);
  const result = obj(entry.result);
  const allow = entry.result === true || result.allow === true;
  const reasons = Array.isArray(result.reasons) ? result.reasons.filter((r): r is string => typeof r === 'string').slice(0, 50) : [];
  const obligations = obj(result.obligations);
  const handlerNs = entry.metrics.timer_server_handler_ns ?? 0;
  return {
    event_id: uuidv7(),
    category: 'policy_decision',
    occurred_at: entry.timestamp,
    correlation_id: (entry.correlation_id ?? entry.decision_id).slice(0, 200),
    causation_id: null,
    trace_id: entry.trace_id && /^[0-9a-f]{32}$/.test(entry.trace_id) ? entry.trace_id : null,
    tenant_id: text(subject.tenant_id, 200),
    user_id: text(subject.sub, 200),
    client_id: text(subject.client_id, 200),
    agent_id: text(subject.agent_id, 200),
    route_id: text(route.id, 200),
    method: (text(request.method, 16) ?? 'POST').slice(0, 16),
    host: text(request.host, 255) ?? '',
    path: text(request.path, 2048) ?? `/v1/data/${entry.path}`.slice(0, 2048),
    status: entry.error ? 500 : 200,
    duration_ms: handlerNs / 1e6,
    decision: {
      allow,
      reasons: reasons.map((r) => r.slice(0, 500)),
      policy: (text(result.policy, 200) ?? entry.path.replace(/\//g, '.').slice(0, 200)) || null,
      decision_id: entry.decision_id,
    },
    sandbox_routed: obligations.route_to === 'sandbox',
    trial_mode: subject.trial_mode === true,
    upstream: null,
    ip: entry.requested_by.slice(0, 64) || null,
    user_agent: null,
    error_code: entry.error?.code.slice(0, 200) ?? null,
    details: { decision_log: entry },
  };
}
