import { buildAuditEvent, type AuditEventInput } from '@cloud-stack/contracts';
import type { GatewayContext } from '../context';
import type { Stage } from '../stage';

export interface AuditDeps {
  /** The shared producer's emit: synchronous, never throws, buffers while Redis is away. */
  readonly emit: (event: AuditEventInput) => boolean;
}

/** The request's audit event, from what the stages recorded on the context. */
export function requestEvent(ctx: GatewayContext): AuditEventInput {
  const { subject, decision, correlation, req, res } = ctx;
  const ua = req.headers['user-agent'];
  return buildAuditEvent({
    occurred_at: ctx.receivedAt,
    correlation_id: correlation.correlationId,
    causation_id: correlation.causationId,
    trace_id: correlation.traceId,
    tenant_id: subject.tenant_id,
    user_id: subject.sub,
    client_id: subject.client_id,
    agent_id: subject.agent_id,
    route_id: ctx.route.id,
    method: req.method ?? 'GET',
    host: ctx.host,
    path: ctx.path,
    // A client that went away before the answer was written is recorded as 499, as nginx does.
    status: ctx.socketStatus ?? (res.writableFinished || res.headersSent ? res.statusCode : 499),
    duration_ms: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6,
    decision: decision && { allow: decision.allow, reasons: decision.reasons, policy: decision.policy, decision_id: decision.decision_id },
    sandbox_routed: ctx.sandbox && ctx.upstream !== null,
    trial_mode: subject.trial_mode,
    upstream: ctx.upstream,
    ip: ctx.ip,
    user_agent: typeof ua === 'string' ? ua : null,
    error_code: ctx.errorCode,
    details: decision?.enforcement === 'degraded' ? { policy_enforcement: 'degraded' } : null,
  });
}

/**
 * One event per request, handed to the producer after the response has finished (or the client
 * went away), so audit never delays or fails a response. Registered first in the pipeline so that
 * refusals by later stages are recorded too: a denial is a `policy_violation` with its reasons.
 */
export function auditStage(deps: AuditDeps): Stage {
  return {
    id: 'audit',
    build() {
      return (ctx) => {
        ctx.res.once('close', () => deps.emit(requestEvent(ctx)));
      };
    },
  };
}
