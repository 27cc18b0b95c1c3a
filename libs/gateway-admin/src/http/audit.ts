import type { Request, RequestHandler, Response } from 'express';
import { acceptCorrelationId, traceOf } from '@cloud-stack/service-kit';
import { buildAuditEvent, type AuditEventInput, type PolicyInput } from '@cloud-stack/contracts';

export type Subject = PolicyInput['subject'];

/** What a handler records about its change: `details` of the admin audit event. */
export interface AdminAction {
  action: string;
  version?: number | null;
  [key: string]: unknown;
}

declare module 'express-serve-static-core' {
  interface Locals {
    adminAction?: AdminAction;
    adminSubject?: Subject;
    errorCode?: string;
  }
}

/**
 * One `admin` audit event per change request, emitted once the response has finished (so it
 * carries the final status), also for a refused one: who tried what matters most then.
 */
export function auditChanges(emit: (event: AuditEventInput) => void, action: string): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const traceId = traceOf(req.headers)?.trace_id ?? null;
    // The target version from the URL, so even a refused attempt says what it aimed at.
    const v = typeof req.params.v === 'string' && /^[1-9][0-9]{0,9}$/.test(req.params.v) ? Number(req.params.v) : null;
    res.locals.adminAction = { action, version: v };
    res.on('finish', () => emit(adminEvent(req, res, performance.now() - started, traceId)));
    next();
  };
}

function adminEvent(req: Request, res: Response, durationMs: number, traceId: string | null): AuditEventInput {
  const subject = res.locals.adminSubject;
  const details = { ...(res.locals.adminAction ?? { action: 'unknown' }) };
  return buildAuditEvent({
    category: 'admin',
    correlation_id: req.correlationId ?? acceptCorrelationId(req.headers['x-correlation-id']),
    trace_id: traceId,
    tenant_id: subject?.tenant_id,
    user_id: subject?.sub,
    client_id: subject?.client_id,
    agent_id: subject?.agent_id,
    method: req.method,
    host: req.headers.host ?? '',
    path: req.originalUrl.split('?')[0]!,
    status: res.statusCode,
    duration_ms: durationMs,
    trial_mode: subject?.trial_mode ?? false,
    ip: req.ip,
    user_agent: req.headers['user-agent'],
    error_code: res.statusCode >= 400 ? (res.locals.errorCode ?? `http_${res.statusCode}`) : null,
    details,
  });
}
