import type { IncomingMessage } from 'node:http';

/** A request the gateway will route: its canonical path (as matched and forwarded), query and host. */
export interface InspectedRequest {
  readonly path: string;
  /** The query string with its leading `?`, or "". */
  readonly query: string;
  /** Lower case, without port or trailing dot (as audited). */
  readonly host: string;
  /** The Host header in lower case, port included (as matched: a route's host pattern may name a port). */
  readonly authority: string;
}

/** Why a request is refused before routing: status and a detail safe to show the caller. */
export interface RequestDefect {
  readonly status: 400 | 413 | 501;
  readonly detail: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?)(:\d{1,5})?$/i;
// Bytes a path may carry as they are (RFC 3986 pchar without `;`, plus `/`); anything else must be
// percent-encoded, and some encodings are refused below.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;

/**
 * RFC 3986 §6.2.2 normalisation of a path: percent-encoded unreserved characters are decoded and
 * other escapes upper-cased, so `/api/%61dmin` is matched (and forwarded) as `/api/admin` and no
 * spelling of a path can reach a route another spelling would not. Escapes that change a path's
 * structure downstream are refused: an encoded slash, backslash, NUL or percent (double encoding).
 */
function normalisePath(raw: string): string | RequestDefect {
  if (!PATH_CHARS.test(raw)) {
    return { status: 400, detail: raw.includes(';') ? 'path parameters (;) are not accepted' : 'the path has characters that must be percent-encoded' };
  }
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { status: 400, detail: 'the path has a malformed percent-encoding' };
    const code = parseInt(hex, 16);
    const ch = String.fromCharCode(code);
    if (code === 0x2f || code === 0x5c) return { status: 400, detail: 'encoded slashes are not accepted in paths' };
    if (code === 0x25) return { status: 400, detail: 'double-encoded paths are not accepted' };
    if (code < 0x20 || code === 0x7f) return { status: 400, detail: 'control characters are not accepted in paths' };
    if (code === 0x3b) return { status: 400, detail: 'path parameters (;) are not accepted' };
    out += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  const segments = out.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') return { status: 400, detail: 'dot segments are not accepted in paths' };
    if (s === '' && i < segments.length - 1) return { status: 400, detail: 'empty path segments are not accepted' };
  }
  return out;
}

/** How often a header name occurs in the raw header list (Node folds duplicates in `headers`). */
function occurrences(raw: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++;
  return n;
}

/**
 * Refuses what a front door must not pass on: ambiguous framing (duplicate Host or
 * Content-Length, Content-Length with Transfer-Encoding, a transfer coding other than chunked),
 * a missing or malformed Host, a body declared over the limit, and paths that could be read
 * differently behind the gateway. Returns the canonical request, or the defect.
 */
export function inspectRequest(req: IncomingMessage, maxBodyBytes: number): InspectedRequest | RequestDefect {
  const raw = req.rawHeaders;
  if (occurrences(raw, 'host') !== 1) return { status: 400, detail: 'exactly one Host header is required' };
  const lengths = occurrences(raw, 'content-length');
  const te = req.headers['transfer-encoding'];
  if (lengths > 1) return { status: 400, detail: 'duplicate Content-Length headers' };
  if (te !== undefined) {
    if (lengths > 0) return { status: 400, detail: 'Content-Length and Transfer-Encoding together are ambiguous' };
    if (occurrences(raw, 'transfer-encoding') > 1 || te.trim().toLowerCase() !== 'chunked') {
      return { status: 501, detail: 'only the chunked transfer coding is supported' };
    }
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBodyBytes) {
    return { status: 413, detail: `the request body exceeds ${maxBodyBytes} bytes` };
  }
  const hostHeader = req.headers.host!;
  if (!HOST.test(hostHeader)) return { status: 400, detail: 'the Host header is malformed' };
  const url = req.url ?? '';
  if (url[0] !== '/') return { status: 400, detail: 'the request target must be a path' };
  const q = url.indexOf('?');
  const path = normalisePath(q < 0 ? url : url.slice(0, q));
  if (typeof path !== 'string') return path;
  const authority = hostHeader.toLowerCase();
  return { path, query: q < 0 ? '' : url.slice(q), host: canonicalHost(authority), authority };
}

export function isDefect(value: InspectedRequest | RequestDefect): value is RequestDefect {
  return 'status' in value;
}

function canonicalHost(authority: string): string {
  let h = authority;
  if (h[0] !== '[') {
    const colon = h.lastIndexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  } else {
    h = h.slice(0, h.indexOf(']') + 1);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
