import { uuidv7, type AuditEventInput } from '@cloud-stack/contracts';
import type { DecisionLogEntry } from './types';

/**
 * What `details.decision_log` keeps of a decision log entry: OPA's shape without what the audit
 * event's own fields already say (correlation id, requester, and the input and result fields the
 * event maps: subject, route id, request line, allow/reasons/policy).
 */
export type LeanDecisionLog = Omit<DecisionLogEntry, 'correlation_id' | 'requested_by'>;

/** An audit event of category `policy_decision` that carries the rest of the entry under `details.decision_log`. */
export type DecisionAuditEvent = AuditEventInput & { readonly details: { readonly decision_log: LeanDecisionLog } };

/** True when the audit event holds this value exactly (a longer string is cut there: it stays in details). */
type Carried = (value: unknown) => boolean;
const upTo =
  (max: number): Carried =>
  (v) =>
    typeof v === 'string' && v.length <= max;
const isBoolean: Carried = (v) => typeof v === 'boolean';
const reasonList: Carried = (v) => Array.isArray(v) && v.length <= 50 && v.every((r) => typeof r === 'string' && r.length <= 500);

/** Fields of the gateway input the audit event carries itself, by the input object they sit in. */
const MAPPED_INPUT: Readonly<Record<string, Readonly<Record<string, Carried>>>> = {
  request: { method: upTo(16), host: upTo(255), path: upTo(2048) },
  subject: { tenant_id: upTo(200), sub: upTo(200), client_id: upTo(200), agent_id: upTo(200), trial_mode: isBoolean },
  route: { id: upTo(200) },
};
const MAPPED_RESULT: Readonly<Record<string, Carried>> = { allow: isBoolean, reasons: reasonList, policy: upTo(200) };

function without(value: Record<string, unknown>, carried: Readonly<Record<string, Carried>>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    if (carried[key]?.(value[key])) continue;
    out[key] = value[key];
    kept++;
  }
  return kept ? out : undefined;
}

/** The input without the fields the event maps; undefined when nothing else is left. */
function restOfInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in input) {
    const value = (input as Record<string, unknown>)[key];
    const mapped = MAPPED_INPUT[key];
    const rest = mapped && typeof value === 'object' && value !== null && !Array.isArray(value) ? without(value as Record<string, unknown>, mapped) : value;
    if (rest === undefined) continue;
    out[key] = rest;
    kept++;
  }
  return kept ? out : undefined;
}

/** The result without allow/reasons/policy when it is an object (a bare `true` stays: it is small). */
function restOfResult(result: unknown): unknown {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return result;
  return without(result as Record<string, unknown>, MAPPED_RESULT);
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown, max: number): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

function leanEntry(entry: DecisionLogEntry): LeanDecisionLog {
  const { correlation_id: _correlationId, requested_by: _requestedBy, input, result, ...rest } = entry;
  const lean: { -readonly [K in keyof LeanDecisionLog]: LeanDecisionLog[K] } = rest;
  const restInput = restOfInput(input);
  const restResult = restOfResult(result);
  if (restInput !== undefined) lean.input = restInput;
  if (restResult !== undefined) lean.result = restResult;
  return lean;
}

/**
 * Maps a decision log entry onto the shared audit event (contracts' AuditEvent), reading the
 * subject, route and request from the (already masked) gateway input when they are there. Each
 * fact is carried once: what the event's fields hold is left out of `details.decision_log`, which
 * keeps the rest of the entry (roles, route params, obligations, metrics, bundle revision...).
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
    details: { decision_log: leanEntry(entry) },
  };
}
