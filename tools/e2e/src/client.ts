import { randomUUID } from 'node:crypto';
import type { Echo, EchoUpstream } from '@cloud-stack/test-kit';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON (problem+json included), or its text when it is not JSON. */
  readonly body: unknown;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly correlationId?: string;
  readonly headers?: Record<string, string>;
}

/** One request, as a client of the platform sends it. */
export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.correlationId) headers['x-correlation-id'] = options.correlationId;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** A correlation id of the suite's own, so each request can be found upstream and in the audit trail. */
export function correlationId(label: string): string {
  return `e2e-${label}-${randomUUID()}`;
}

/** What an upstream received with this correlation id. */
export function seenWith(upstream: EchoUpstream, id: string): Echo[] {
  return upstream.seen.filter((e) => e.headers['x-correlation-id'] === id);
}

/** The claims of a JWT access token (read, not verified: identity issued it to this test). */
export function claimsOf(token: string): { sub: string; tenant_id: string } {
  const payload = token.split('.')[1];
  if (!payload) throw new TypeError('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string; tenant_id: string };
}

/** A password-grant login through identity's public `console` client. */
export async function login(identityUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: email, password }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
