import { createHash, randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { Harness } from './harness';

/** The demo seed's public PKCE client and its first registered redirect URI. */
export const CONSOLE = 'operator-console';
export const REDIRECT_URI = 'http://localhost:8080/__gateway/console/callback';
export const ISSUER = 'http://localhost:3333';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request's query; `undefined` values are left out. */
export function authorizeUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  return `/oauth/authorize?${query.toString()}`;
}

export function validRequest(challenge: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { response_type: 'code', client_id: CONSOLE, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-123', scope: 'openid api', ...extra };
}

export interface OpenedForm {
  readonly html: string;
  /** The browser-binding cookie, as a Cookie header value. */
  readonly cookie: string;
  readonly csrf: string;
}

export async function openForm(app: RequestListener, params: Record<string, string | undefined>): Promise<OpenedForm> {
  const res = await request(app).get(authorizeUrl(params));
  if (res.status !== 200) throw new Error(`authorize page answered ${res.status}: ${res.text}`);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('cs_authorize='));
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(res.text)?.[1];
  if (!cookie || !csrf) throw new Error('the form has no CSRF token or cookie');
  return { html: res.text, cookie, csrf };
}

export function postForm(app: RequestListener, form: Pick<OpenedForm, 'cookie' | 'csrf'>, email: string, password: string) {
  return request(app).post('/oauth/authorize').set('Cookie', form.cookie).type('form').send({ csrf_token: form.csrf, email, password });
}

/** The whole front channel: the form, the password, the redirect's code. */
export async function signIn(h: Harness, email: string, extra: Record<string, string | undefined> = {}): Promise<{ code: string; verifier: string; location: URL }> {
  const { verifier, challenge } = pkce();
  const form = await openForm(h.app, validRequest(challenge, extra));
  const res = await postForm(h.app, form, email, h.password(email));
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${res.text}`);
  const location = new URL(res.headers.location!);
  return { code: location.searchParams.get('code')!, verifier, location };
}

export function exchange(app: RequestListener, fields: Record<string, string>) {
  return request(app).post('/oauth/token').type('form').send({ grant_type: 'authorization_code', client_id: CONSOLE, redirect_uri: REDIRECT_URI, ...fields });
}

export function refresh(app: RequestListener, token: string, clientId = CONSOLE) {
  return request(app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token });
}
