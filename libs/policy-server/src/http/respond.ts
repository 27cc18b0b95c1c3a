import type { Request, Response } from 'express';
import { opaJson } from '../opa/json';

/** `?pretty`, `?pretty=true` → true, like OPA's getBoolParam. */
export function boolParam(req: Request, name: string): boolean {
  const v = (req.query as Record<string, unknown>)[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return false;
  return s === '' || String(s).toLowerCase() === 'true';
}

/** Writes a JSON body exactly as OPA does (Content-Type without charset, trailing newline). */
export function sendJson(res: Response, status: number, body: unknown, pretty = false): void {
  const text = opaJson(body, pretty);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
