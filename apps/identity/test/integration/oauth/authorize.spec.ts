import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { Queue } from 'bullmq';
import { AUDIT_QUEUE, auditBatchEvents, AuditBatchSchema, AuditEventSchema, type AuditEvent } from '@cloud-stack/contracts';
import { testRedisUrl } from '@cloud-stack/test-kit';
import { introspect, useIdentity } from '../../support/harness';
import { CONSOLE, ISSUER, REDIRECT_URI, authorizeUrl, exchange, openForm, pkce, postForm, validRequest } from '../../support/authorize';

const h = useIdentity();

/** The error redirected to the client: the Location's query. */
function redirectedError(res: request.Response): Record<string, string> {
  expect(res.status).toBe(303);
  const location = new URL(res.headers.location!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  return Object.fromEntries(location.searchParams);
}

describe('GET /oauth/authorize: the request and the sign-in page', () => {
  it('serves an accessible form with no script, a per-form CSRF token and strict headers', async () => {
    const { challenge } = pkce();
    const res = await request(h.app).get(authorizeUrl(validRequest(challenge)));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' http://localhost:8080");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(res.text).not.toMatch(/<script|\son[a-z]+=|https?:\/\/(?!localhost)/i);
    // Every input a person fills in has a label pointing at it; the form posts back here.
    expect(res.text).toMatch(/<label for="email">E-mail<\/label>\s*<input id="email" name="email"/);
    expect(res.text).toMatch(/<label for="password">Password<\/label>\s*<input id="password" name="password" type="password"/);
    expect(res.text).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(res.text).toContain('<form method="post" action="/oauth/authorize"');
    expect(res.text).toContain('Cloud Stack operator console');
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('cs_authorize='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const a = await openForm(h.app, validRequest(challenge));
    const b = await openForm(h.app, validRequest(challenge));
    expect(a.csrf).not.toBe(b.csrf);
  });

  it('shows errors about the client or redirect URI on the page and never redirects', async () => {
    const { challenge } = pkce();
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ client_id: undefined }, /client_id is missing/],
      [{ client_id: 'nobody' }, /not registered for sign-in/],
      // A password-only client has no redirect URIs and no business here.
      [{ client_id: 'console' }, /not registered for sign-in/],
      [{ redirect_uri: undefined }, /redirect_uri is missing/],
      [{ redirect_uri: 'https://evil.example/callback' }, /not registered for this application/],
      [{ redirect_uri: `${REDIRECT_URI}/` }, /not registered/],
      [{ redirect_uri: `${REDIRECT_URI}?x=1` }, /not registered/],
      [{ redirect_uri: 'http://LOCALHOST:8080/__gateway/console/callback' }, /not registered/],
    ];
    for (const [change, message] of cases) {
      const res = await request(h.app).get(authorizeUrl(validRequest(challenge, change)));
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.text).toMatch(message);
    }
    const twice = await request(h.app).get(`${authorizeUrl(validRequest(challenge))}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`);
    expect(twice.status).toBe(400);
    expect(twice.text).toMatch(/repeated/);
  });

  it('redirects every other refusal to the client with error, state and iss', async () => {
    const { challenge, verifier } = pkce();
    const cases: Array<[Record<string, string | undefined>, string, RegExp]> = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', /code_challenge is required/],
      [{ code_challenge_method: undefined }, 'invalid_request', /S256/],
      [{ code_challenge_method: 'plain', code_challenge: verifier }, 'invalid_request', /S256/],
      [{ code_challenge: 'too-short' }, 'invalid_request', /43 base64url/],
      [{ response_type: 'token' }, 'unsupported_response_type', /code/],
      [{ response_type: undefined }, 'invalid_request', /response_type/],
      [{ scope: 'openid root' }, 'invalid_scope', /root/],
    ];
    for (const [change, error, description] of cases) {
      const query = redirectedError(await request(h.app).get(authorizeUrl(validRequest(challenge, change))));
      expect(query, JSON.stringify(change)).toMatchObject({ error, state: 'st-123', iss: ISSUER });
      expect(query.error_description).toMatch(description);
      expect(query.code).toBeUndefined();
    }
  });
});

describe('POST /oauth/authorize and the code exchange', () => {
  let queue: Queue;
  beforeAll(() => {
    queue = new Queue(AUDIT_QUEUE, { connection: { url: testRedisUrl() }, prefix: `${h.prefix}bull` });
  });
  afterAll(() => queue.close());

  async function signInEvents(count: number): Promise<AuditEvent[]> {
    for (let i = 0; i < 200; i++) {
      const events: AuditEvent[] = [];
      for (const job of await queue.getJobs(['waiting', 'prioritized', 'delayed'])) {
        for (const e of auditBatchEvents(AuditBatchSchema.parse(job.data))) events.push(AuditEventSchema.parse(e));
      }
      // Jobs come back in no particular order; UUIDv7 ids sort by time.
      const signIns = events.filter((e) => e.path === '/oauth/authorize').sort((a, b) => a.event_id.localeCompare(b.event_id));
      if (signIns.length >= count) return signIns;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${count} sign-in audit events`);
  }

  it('signs in with the form, redirects with code, state and iss, and exchanges the code with the verifier', async () => {
    const { verifier, challenge } = pkce();
    const form = await openForm(h.app, validRequest(challenge));
    const email = 'governor@cloudstack.example';

    const wrong = await postForm(h.app, form, email, 'not-the-password');
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('Wrong e-mail or password.');
    expect(wrong.text).toContain(`value="${email}"`);
    expect(wrong.headers.location).toBeUndefined();
    const unknown = await postForm(h.app, form, 'nobody@cloudstack.example', 'whatever-pass');
    expect(unknown.text).toContain('Wrong e-mail or password.');

    const ok = await postForm(h.app, form, email, h.password(email));
    expect(ok.status).toBe(303);
    const location = new URL(ok.headers.location!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    const code = location.searchParams.get('code')!;
    expect(code).toMatch(/^ac_/);
    // Stored only as a hash, bound to the client, redirect URI and challenge, living ≤ 60 s.
    const rows = await h.ctx.db.selectFrom('authorization_codes').selectAll().execute();
    expect(rows.some((r) => r.code_sha256 === code)).toBe(false);
    const row = rows.find((r) => r.code_challenge === challenge)!;
    expect(row).toMatchObject({ client_id: CONSOLE, redirect_uri: REDIRECT_URI });
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeLessThanOrEqual(60_000);

    // The form was single-use.
    const again = await postForm(h.app, form, email, h.password(email));
    expect(again.status).toBe(400);
    expect(again.text).toMatch(/expired/);

    const tokens = await exchange(h.app, { code, code_verifier: verifier });
    expect(tokens.status).toBe(200);
    expect(tokens.headers['cache-control']).toBe('no-store');
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'openid api', refresh_token: expect.stringMatching(/^rt_/) });
    // The same token as the password grant's: roles with what they imply, tenant, governor flag.
    const claims = jwt.decode(tokens.body.access_token) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: ISSUER, client_id: CONSOLE, tenant_id: 'platform', is_governor: true, email, roles: ['operator', 'developer', 'analyst', 'viewer'] });
    expect((await introspect(h, tokens.body.access_token)).body).toMatchObject({ active: true, client_id: CONSOLE });

    const events = await signInEvents(3);
    expect(events.map((e) => e.details?.outcome)).toEqual(['wrong_credentials', 'wrong_credentials', 'success']);
    const success = events[2]!;
    expect(success).toMatchObject({ category: 'admin', method: 'POST', status: 303, client_id: CONSOLE, tenant_id: 'platform', user_id: claims.sub });
    expect(events[0]).toMatchObject({ user_id: null, tenant_id: 'platform', status: 400 });
    expect(JSON.stringify(events)).not.toContain('not-the-password');
  });

  it('refuses a post without the form token, without the browser cookie, or with another browser\'s cookie', async () => {
    const { challenge } = pkce();
    const form = await openForm(h.app, validRequest(challenge));
    const other = await openForm(h.app, validRequest(challenge));
    const email = 'viewer@cloudstack.example';
    const attempts = [
      request(h.app).post('/oauth/authorize').set('Cookie', form.cookie).type('form').send({ email, password: h.password(email) }),
      request(h.app).post('/oauth/authorize').type('form').send({ csrf_token: form.csrf, email, password: h.password(email) }),
      postForm(h.app, { csrf: form.csrf, cookie: other.cookie }, email, h.password(email)),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toMatch(/expired or was not opened in this browser/);
    }
    // The genuine pair still works.
    expect((await postForm(h.app, form, email, h.password(email))).status).toBe(303);
  });
});
