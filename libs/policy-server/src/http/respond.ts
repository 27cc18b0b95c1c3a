import type { ServerResponse } from 'node:http';
import { opaJson } from '../opa/json';

/** A parsed query string (Express's `req.query`, or node:querystring's result). */
export type Query = Readonly<Record<string, unknown>>;

/** `?pretty`, `?pretty=true` → true, like OPA's getBoolParam. */
export function boolParam(query: Query, name: string): boolean {
  const v = query[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return false;
  return s === '' || String(s).toLowerCase() === 'true';
}

/** Writes a JSON body exactly as OPA does (Content-Type without charset, trailing newline). */
export function sendJson(res: ServerResponse, status: number, body: unknown, pretty = false): void {
  const text = opaJson(body, pretty);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
