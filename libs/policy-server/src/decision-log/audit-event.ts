import { buildAuditEvent, type AuditEventInput } from '@cloud-stack/contracts';
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

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
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
 * Maps a decision log entry onto the shared audit event through the contract's `buildAuditEvent`
 * (which clamps every field to the schema), reading the subject, route and request from the
 * (already masked) gateway input when they are there. Each fact is carried once: what the event's
 * fields hold is left out of `details.decision_log`, which keeps the rest of the entry (roles,
 * route params, obligations, metrics, bundle revision...).
 */
export function toAuditEvent(entry: DecisionLogEntry): DecisionAuditEvent {
  const input = obj(entry.input);
  const request = obj(input.request);
  const subject = obj(input.subject);
  const route = obj(input.route);
  const result = obj(entry.result);
  const decision_log = leanEntry(entry);
  const event = buildAuditEvent({
    category: 'policy_decision',
    occurred_at: new Date(entry.timestamp),
    correlation_id: entry.correlation_id ?? entry.decision_id,
    trace_id: entry.trace_id ?? null,
    tenant_id: text(subject.tenant_id),
    user_id: text(subject.sub),
    client_id: text(subject.client_id),
    agent_id: text(subject.agent_id),
    route_id: text(route.id),
    method: text(request.method) ?? 'POST',
    host: text(request.host) ?? '',
    path: text(request.path) ?? `/v1/data/${entry.path}`,
    status: entry.error ? 500 : 200,
    duration_ms: (entry.metrics.timer_server_handler_ns ?? 0) / 1e6,
    decision: {
      allow: entry.result === true || result.allow === true,
      reasons: Array.isArray(result.reasons) ? result.reasons.filter((r): r is string => typeof r === 'string') : [],
      policy: text(result.policy) ?? (entry.path.replace(/\//g, '.') || null),
      decision_id: entry.decision_id,
    },
    sandbox_routed: obj(result.obligations).route_to === 'sandbox',
    trial_mode: subject.trial_mode === true,
    ip: entry.requested_by,
    error_code: entry.error?.code ?? null,
    details: { decision_log },
  });
  return { ...event, details: { decision_log } };
}
