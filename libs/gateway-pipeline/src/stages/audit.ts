import { buildAuditEvent, type AuditEventInput } from '@cloud-stack/contracts';
import type { Counter } from '@cloud-stack/service-kit';
import type { GatewayContext } from '../context';
import type { Stage } from '../stage';

/**
 * Requests the stage has begun whose event is not emitted yet (WebSockets left out: their event
 * comes when the socket ends). The producer's `coming` reads it to gather their events into one add.
 */
export interface PendingEvents {
  count: number;
}

export interface AuditDeps {
  /**
   * The shared producer's emitAndConfirm: synchronous, never throws, buffers while Redis is away;
   * resolves true once the event is in Redis, false if it was dropped.
   */
  readonly emit: (event: AuditEventInput) => Promise<boolean>;
  /** Longest a response's last bytes wait for its event to be in Redis; 0: they never wait. */
  readonly holdMs: number;
  /** Counts responses that ended before their event was in Redis (the hold ran out or the event was dropped). */
  readonly unconfirmed?: Counter;
  readonly pending?: PendingEvents;
}

/**
 * The request's audit event, from what the stages recorded on the context; `ending`: the response
 * is being ended (its status is final), otherwise the connection closed before it was.
 */
export function requestEvent(ctx: GatewayContext, ending: boolean): AuditEventInput {
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
    status: ctx.socketStatus ?? (ending || res.headersSent ? res.statusCode : 499),
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

type End = (...args: unknown[]) => unknown;
type Write = (...args: unknown[]) => boolean;

/** Bytes a `write(chunk, encoding?)` puts on the wire. */
function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array | undefined)?.byteLength ?? 0;
}

/**
 * A response with a Content-Length is whole for its client once its last byte is written, before
 * `end`: the write that completes the length is kept back and goes out with `end` (one write on
 * the socket for a small answer). Chunked responses need nothing here: their last bytes are the
 * terminating chunk that `end` writes. Returns what sends the kept-back write, if there is one.
 */
function keepBackLastWrite(res: { write: Write; getHeader(name: string): unknown }): () => void {
  const write = res.write;
  let written = 0;
  let length: number | undefined;
  // The write that completed the length and any after it, in order.
  const kept: unknown[][] = [];
  res.write = function keptWrite(this: unknown, ...args: unknown[]) {
    length ??= Number(res.getHeader('content-length') ?? Number.NaN);
    if (kept.length === 0) {
      if (!Number.isFinite(length)) return write.apply(this, args);
      written += byteLength(args[0], args[1]);
      if (written < length) return write.apply(this, args);
    }
    kept.push(args);
    return true;
  };
  return () => {
    for (const args of kept.splice(0)) write.apply(res, args);
  };
}

/**
 * One event per request, recorded when the response is being ended (status and duration are known
 * then) or, for a client that went away first, when the connection closes. With `holdMs` above 0
 * the response's last bytes (its `end`, and with a Content-Length the write that completes it)
 * wait until the event is in Redis, so a client never has a whole answer whose event a crash of
 * this process could still lose; the wait is bounded by `holdMs`, after which (Redis slow or away)
 * the response ends anyway and the event stays with the producer. A WebSocket's response is its
 * socket: its `end` (a refusal, or the upstream closing) waits the same way.
 * Registered first in the pipeline so that refusals by later stages are recorded too: a denial is
 * a `policy_violation` with its reasons.
 */

export function auditStage(deps: AuditDeps): Stage {
  const { emit, holdMs, unconfirmed } = deps;
  const pending = deps.pending ?? { count: 0 };
  return {
    id: 'audit',
    build() {
      return (ctx) => {
        let recorded = false;
        // Node marks the requests it hands to the server's 'upgrade' listener (its typings omit the flag).
        const upgrade = (ctx.req as { upgrade?: boolean }).upgrade === true;
        if (!upgrade) pending.count++;
        // Before the emit: the producer reads the count when the event arrives.
        const record = () => {
          recorded = true;
          if (!upgrade) pending.count--;
        };
        // Calls of `end` that came while the first one waits; they follow it in order.
        let waiting: Array<{ target: { end: End }; end: End; args: unknown[] }> | undefined;
        const release = () => {
          const calls = waiting!;
          waiting = undefined;
          // The kept-back last bytes first, in the same turn as `end`: one write on the socket.
          sendKept?.();
          for (const c of calls) c.end.apply(c.target, c.args);
        };
        const hold = (target: { end: End }) => {
          const end = target.end;
          // An own property on this request's object only: the prototype's end stays untouched.
          target.end = function heldEnd(this: unknown, ...args: unknown[]) {
            if (waiting) {
              waiting.push({ target, end, args });
              return this;
            }
            if (recorded) return end.apply(this, args);
            record();
            const stored = emit(requestEvent(ctx, true));
            if (holdMs === 0) return end.apply(this, args);
            waiting = [{ target, end, args }];
            const timer = setTimeout(() => {
              unconfirmed?.inc();
              release();
            }, holdMs);
            stored.then((ok) => {
              if (!waiting) return;
              clearTimeout(timer);
              if (!ok) unconfirmed?.inc();
              release();
            });
            return this;
          };
        };
        const sendKept = holdMs > 0 ? keepBackLastWrite(ctx.res as unknown as { write: Write; getHeader(name: string): unknown }) : undefined;
        hold(ctx.res as unknown as { end: End });
        // An upgrade is answered on the raw socket (a refusal or, after the 101, the piped upstream).
        if (upgrade && ctx.res.socket) hold(ctx.res.socket as unknown as { end: End });
        ctx.res.once('close', () => {
          if (recorded) return;
          record();
          void emit(requestEvent(ctx, false));
        });
      };
    },
  };
}
