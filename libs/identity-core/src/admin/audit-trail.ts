import type { Request, RequestHandler } from 'express';
import { buildAuditEvent, type AuditEventInput } from '@cloud-stack/contracts';
import { traceOf } from '@cloud-stack/service-kit';
import { caller, type Caller } from './caller';

/** Where admin actions go: the shared audit producer's `emit` (never blocks, never throws). */
export type EmitAuditEvent = (event: AuditEventInput) => unknown;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TENANT_PATH = /^\/tenants\/([^/]+)/;

/** The tenant an admin path is about (`/tenants/{id}/…`), else undefined. */
function targetTenant(path: string): string | undefined {
  const m = TENANT_PATH.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/**
 * The tenant whose audit trail holds the event: the tenant acted on when the caller may act on
 * it (a platform owner's change to tenant B is B's business), else the caller's own tenant, so
 * a probe of a foreign tenant never shows the prober's identity to that tenant.
 */
function fileUnder(who: Caller, target: string | undefined): string {
  return target !== undefined && (who.platformOwner || target === who.tenant_id) ? target : who.tenant_id;
}


/**
 * Records every change an authenticated admin attempts through the admin API (any method but
 * GET/HEAD/OPTIONS, whatever the outcome) as an `admin` audit event, kept for 7 years by the
 * audit-writer. The event names who (caller's user, client and tenant), what (method, path,
 * status) and on which tenant; request bodies are never copied (they carry passwords and
 * client secrets). Mount after requireAdmin, before the routes.
 */
export function recordAdminActions(emit: EmitAuditEvent): RequestHandler {
  return (req, res, next) => {
    if (READS.has(req.method)) {
      next();
      return;
    }
    const who = caller(res);
    const started = Date.now();
    const t0 = process.hrtime.bigint();
    // req.path is relative to the admin router here; the routes below see it rewritten.
    const path = req.path;
    const traceId = traceOf(req.headers)?.trace_id ?? null;
    // 'close' also fires when the client goes away mid-request: the change may still have happened.
    res.once('close', () => {
      const durationMs = Number(process.hrtime.bigint() - t0) / 1e6;
      emit(adminEvent(req, who, { status: res.statusCode, completed: res.writableFinished, path, started, durationMs, traceId }));
    });
    next();
  };
}

interface Outcome {
  readonly status: number;
  /** The response was written in full (false: the client disconnected first). */
  readonly completed: boolean;
  readonly path: string;
  readonly started: number;
  readonly durationMs: number;
  readonly traceId: string | null;
}

function adminEvent(req: Request, who: Caller, { status, completed, path, started, durationMs, traceId }: Outcome): AuditEventInput {
  return buildAuditEvent({
    category: 'admin',
    occurred_at: started,
    correlation_id: req.correlationId,
    trace_id: traceId,
    tenant_id: fileUnder(who, targetTenant(path)),
    user_id: who.sub,
    client_id: who.client_id,
    method: req.method,
    host: req.get('host') ?? '',
    path: req.originalUrl.split('?')[0]!,
    status,
    duration_ms: durationMs,
    ip: req.ip,
    user_agent: req.get('user-agent'),
    details: { actor_tenant_id: who.tenant_id, actor_roles: [...who.roles], platform_owner: who.platformOwner, completed },
  });
}
