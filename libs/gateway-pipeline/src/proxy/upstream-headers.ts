import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { GatewayContext, Subject } from '../context';

// RFC 9110 §7.6.1: meant for one connection only, never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

// Headers only the gateway may set: whatever a client sends under these names is dropped, so an
// upstream that trusts them trusts the gateway, never the caller.
const GATEWAY_OWNED = /^(x-user-|x-tenant-|x-agent-|x-client-id$|x-trial-|x-is-governor$|x-gateway-|x-forwarded-|forwarded$|x-real-ip$|x-policy-|x-correlation-id$|x-causation-id$|traceparent$|tracestate$)/;

/** Removes hop-by-hop headers, and those the Connection header names, in place. */
export function stripHopByHop(headers: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  const listed = headers.connection;
  if (typeof listed === 'string') for (const name of listed.split(',')) delete headers[name.trim().toLowerCase()];
  // Most are absent: a delete that changes nothing still slows the object down.
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
}

/** What the signature covers, in order: a change to any of these breaks it. */
function signedText(t: string, method: string, path: string, h: Record<string, string>): string {
  return [t, method, path, h['x-user-id'], h['x-tenant-id'], h['x-client-id'], h['x-user-roles'], h['x-agent-id'], h['x-trial-mode'], h['x-is-governor'], h['x-correlation-id']].join('\n');
}

function identityHeaders(subject: Subject): Record<string, string> {
  const h: Record<string, string> = {};
  if (!subject.authenticated) return h;
  if (subject.sub) h['x-user-id'] = subject.sub;
  if (subject.tenant_id) h['x-tenant-id'] = subject.tenant_id;
  if (subject.client_id) h['x-client-id'] = subject.client_id;
  h['x-user-roles'] = subject.roles.join(',');
  if (subject.agent_id) h['x-agent-id'] = subject.agent_id;
  h['x-trial-mode'] = String(subject.trial_mode);
  h['x-is-governor'] = String(subject.is_governor);
  return h;
}

/**
 * The headers an upstream receives: the caller's, minus hop-by-hop and gateway-owned ones, plus
 * the subject's identity, the correlation ids and trace context, X-Forwarded-*, and (with a
 * secret) `X-Gateway-Signature: t=<unix seconds>,v1=<HMAC-SHA256 hex>` over the identity.
 */
export function upstreamHeaders(ctx: GatewayContext, incoming: OutgoingHttpHeaders, forwardPath: string, secret: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) if (!GATEWAY_OWNED.test(name)) out[name] = incoming[name];
  stripHopByHop(out);
  const ids = identityHeaders(ctx.subject);
  ids['x-correlation-id'] = ctx.correlation.correlationId;
  Object.assign(out, ids);
  if (ctx.correlation.causationId) out['x-causation-id'] = ctx.correlation.causationId;
  out.traceparent = ctx.correlation.traceparent;
  if (ctx.ip) out['x-forwarded-for'] = ctx.ip;
  out['x-forwarded-host'] = ctx.req.headers.host;
  out['x-forwarded-proto'] = 'encrypted' in ctx.req.socket ? 'https' : 'http';
  if (secret) {
    const t = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', secret).update(signedText(t, ctx.req.method ?? 'GET', forwardPath, ids)).digest('hex');
    out['x-gateway-signature'] = `t=${t},v1=${mac}`;
  }
  return out;
}

/**
 * For upstreams: true when the identity headers of a request were signed by the gateway with
 * `secret` within `maxSkewSeconds`. `path` is the path the upstream received (query excluded).
 */
export function verifyGatewaySignature(
  headers: IncomingHttpHeaders,
  method: string,
  path: string,
  secret: string,
  maxSkewSeconds = 60,
  now = Date.now(),
): boolean {
  const sig = headers['x-gateway-signature'];
  const m = typeof sig === 'string' ? /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(sig) : null;
  if (!m) return false;
  if (Math.abs(now / 1000 - Number(m[1])) > maxSkewSeconds) return false;
  const h: Record<string, string> = {};
  for (const name of ['x-user-id', 'x-tenant-id', 'x-client-id', 'x-user-roles', 'x-agent-id', 'x-trial-mode', 'x-is-governor', 'x-correlation-id']) {
    const v = headers[name];
    if (typeof v === 'string') h[name] = v;
  }
  const expected = createHmac('sha256', secret).update(signedText(m[1]!, method, path, h)).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}
