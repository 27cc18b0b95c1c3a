import { timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { buildAuditEvent } from '@cloud-stack/contracts';
import { traceOf } from '@cloud-stack/service-kit';
import type { IdentityContext } from '../context';
import { randomToken, sha256Hex } from '../crypto/hash';
import type { ClientRow } from '../directory/clients';
import { AuthorizationCodes } from '../tokens/authorization-codes';
import { OAuthError } from './errors';
import { sendErrorPage, sendLoginForm } from './login-page';
import { resolveScope } from './params';
import { isS256Challenge } from './pkce';
import { redirectOrigin } from './redirect-uris';

/** A validated authorization request, kept server-side while its sign-in form is open. */
interface PendingAuthorization {
  readonly client_id: string;
  readonly redirect_uri: string;
  readonly code_challenge: string;
  readonly scope: string;
  readonly state?: string;
  /** SHA-256 of the browser cookie the form was served with (binds the form to that browser). */
  readonly browser: string;
}

/** How long a served sign-in form can be posted. */
const FORM_TTL_SECONDS = 600;
const COOKIE = 'cs_authorize';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 1024;

const WRONG_CREDENTIALS = 'Wrong e-mail or password.';
const LOCKED_OUT = 'Too many failed sign-ins for this e-mail. Try again later.';
const MISSING_CREDENTIALS = 'Enter your e-mail and password.';
const STALE_FORM = 'This sign-in form has expired or was not opened in this browser.';

type AuthorizeErrorCode = 'invalid_request' | 'unsupported_response_type' | 'unauthorized_client' | 'invalid_scope';

/** An error reported to the client by redirect (RFC 6749 §4.1.2.1): its redirect URI is known good. */
class RedirectedError extends Error {
  constructor(
    readonly code: AuthorizeErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

const REPEATED = Symbol('repeated');

/** A query parameter given once (undefined when absent or empty); REPEATED when given twice. */
function single(query: Request['query'], name: string): string | undefined | typeof REPEATED {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' ? value : REPEATED;
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The authorization endpoint (RFC 6749 §4.1.1, RFC 7636, RFC 9207) with identity's own sign-in
 * page. `GET /oauth/authorize` checks the request and serves the form; `POST /oauth/authorize`
 * checks the password and redirects back with a code. Errors about the client or its redirect URI
 * are shown on the page and never redirected (§4.1.2.1: an unchecked redirect is an open
 * redirector); other errors go back to the client with `error`, `state` and `iss`.
 *
 * CSRF: the form carries a random per-form token naming the pending request in Redis, and the
 * browser that fetched the form holds a SameSite=Strict cookie whose hash the request records;
 * a post needs both, so another site can neither post a form of its own nor one it fetched.
 */
export function authorizeRouter(ctx: IdentityContext): Router {
  const router = Router();
  const redis = ctx.bus.publisher;
  const issuer = ctx.config.ISSUER.replace(/\/$/, '');
  const secureCookie = issuer.startsWith('https:');
  const codes = new AuthorizationCodes(ctx.db, ctx.refreshTokens, ctx.revocations);
  const signIns = ctx.metrics.counter('identity_authorize_sign_ins_total', 'Sign-ins on the authorization page, by outcome');
  const formKey = (token: string) => `${ctx.config.REDIS_PREFIX}identity:authorize:${sha256Hex(token)}`;

  const redirect = (res: Response, redirectUri: string, params: Record<string, string | undefined>) => {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
    url.searchParams.append('iss', issuer);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url.toString());
  };

  /** The client and redirect URI, which must be right before anything can be redirected. */
  const clientOf = async (req: Request): Promise<{ client: ClientRow; redirectUri: string } | { problem: string }> => {
    const clientId = single(req.query, 'client_id');
    if (clientId === undefined || clientId === REPEATED) return { problem: 'The application did not identify itself (client_id is missing or repeated).' };
    const client = await ctx.clients.find(clientId);
    if (!client || !client.grant_types.includes('authorization_code')) return { problem: 'This application is not registered for sign-in here.' };
    const redirectUri = single(req.query, 'redirect_uri');
    if (redirectUri === undefined || redirectUri === REPEATED) return { problem: 'The application did not say where to return (redirect_uri is missing or repeated).' };
    // Exact string comparison (RFC 9700 §4.1.3): no prefixes, patterns or normalisation.
    if (!client.redirect_uris.includes(redirectUri)) return { problem: 'The return address (redirect_uri) is not registered for this application.' };
    return { client, redirectUri };
  };

  const validate = (req: Request, client: ClientRow): Omit<PendingAuthorization, 'client_id' | 'redirect_uri' | 'browser' | 'state'> => {
    for (const [name, value] of Object.entries(req.query)) {
      if (typeof value !== 'string') throw new RedirectedError('invalid_request', `parameter ${name} is repeated`);
    }
    const responseType = single(req.query, 'response_type');
    if (responseType === undefined) throw new RedirectedError('invalid_request', 'missing parameter response_type');
    if (responseType !== 'code') throw new RedirectedError('unsupported_response_type', 'only response_type=code is supported');
    const challenge = single(req.query, 'code_challenge') as string | undefined;
    if (challenge === undefined) throw new RedirectedError('invalid_request', 'code_challenge is required (PKCE, RFC 7636)');
    if (single(req.query, 'code_challenge_method') !== 'S256') throw new RedirectedError('invalid_request', 'code_challenge_method must be S256');
    if (!isS256Challenge(challenge)) throw new RedirectedError('invalid_request', 'code_challenge must be 43 base64url characters');
    let scope: string;
    try {
      scope = resolveScope(single(req.query, 'scope') as string | undefined, client.scopes);
    } catch (err) {
      if (err instanceof OAuthError) throw new RedirectedError('invalid_scope', err.description);
      throw err;
    }
    return { code_challenge: challenge, scope };
  };

  router.get('/authorize', async (req, res) => {
    const checked = await clientOf(req);
    if ('problem' in checked) {
      sendErrorPage(res, 400, checked.problem);
      return;
    }
    const { client, redirectUri } = checked;
    const state = single(req.query, 'state');
    const echoState = typeof state === 'string' && state.length <= MAX_STATE ? state : undefined;
    let request: PendingAuthorization;
    try {
      if (state === REPEATED) throw new RedirectedError('invalid_request', 'parameter state is repeated');
      if (typeof state === 'string' && state.length > MAX_STATE) throw new RedirectedError('invalid_request', `state is longer than ${MAX_STATE} characters`);
      const held = cookie(req, COOKIE);
      const browser = held && COOKIE_VALUE.test(held) ? held : randomToken();
      request = { client_id: client.client_id, redirect_uri: redirectUri, browser: sha256Hex(browser), ...(echoState === undefined ? {} : { state: echoState }), ...validate(req, client) };
      res.cookie(COOKIE, browser, { httpOnly: true, sameSite: 'strict', secure: secureCookie, path: '/oauth/authorize', maxAge: FORM_TTL_SECONDS * 1000 });
    } catch (err) {
      if (!(err instanceof RedirectedError)) throw err;
      redirect(res, redirectUri, { error: err.code, error_description: err.description, state: echoState });
      return;
    }
    const formToken = randomToken();
    await redis.set(formKey(formToken), JSON.stringify(request), 'EX', FORM_TTL_SECONDS);
    sendLoginForm(res, 200, { clientName: client.name, formToken, redirectOrigin: redirectOrigin(redirectUri) });
  });

  router.post('/authorize', async (req, res) => {
    const body: Record<string, unknown> = req.is('application/x-www-form-urlencoded') ? (req.body as Record<string, unknown>) : {};
    const formToken = typeof body.csrf_token === 'string' ? body.csrf_token : '';
    const browser = cookie(req, COOKIE);
    const stored = formToken && browser ? await redis.get(formKey(formToken)) : null;
    const pending = stored ? (JSON.parse(stored) as PendingAuthorization) : undefined;
    if (!pending || !browser || !sameText(pending.browser, sha256Hex(browser))) {
      sendErrorPage(res, 400, STALE_FORM);
      return;
    }
    const client = await ctx.clients.find(pending.client_id);
    if (!client?.redirect_uris.includes(pending.redirect_uri) || !client.grant_types.includes('authorization_code')) {
      sendErrorPage(res, 400, 'This application is no longer registered for sign-in here.');
      return;
    }
    const email = typeof body.email === 'string' ? body.email.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const form = { clientName: client.name, formToken, redirectOrigin: redirectOrigin(pending.redirect_uri), email };
    const started = Date.now();
    const audit = (outcome: string, status: number, user?: { id: string; tenant_id: string }) =>
      ctx.emitAudit(
        buildAuditEvent({
          category: 'admin',
          occurred_at: started,
          correlation_id: req.correlationId,
          trace_id: traceOf(req.headers)?.trace_id ?? null,
          tenant_id: user?.tenant_id ?? client.tenant_id,
          user_id: user?.id ?? null,
          client_id: client.client_id,
          method: 'POST',
          host: req.get('host') ?? '',
          path: '/oauth/authorize',
          status,
          duration_ms: Date.now() - started,
          ip: req.ip,
          user_agent: req.get('user-agent'),
          // Never the e-mail of a failed attempt: it may be a password typed in the wrong field.
          details: { action: 'sign_in', flow: 'authorization_code', outcome },
        }),
      );

    if (!email || !password) {
      sendLoginForm(res, 400, { ...form, error: MISSING_CREDENTIALS });
      return;
    }
    const failures = await ctx.loginThrottle.failures(email);
    if (ctx.loginThrottle.isLocked(failures)) {
      signIns.inc({ outcome: 'locked_out' });
      audit('locked_out', 429);
      sendLoginForm(res, 429, { ...form, error: LOCKED_OUT });
      return;
    }
    const found = await ctx.users.findForLogin(email);
    // An unknown user costs the same scrypt as a wrong password, and gets the same answer.
    const ok = found ? await ctx.hasher.verify(password, found.user.password_hash) : await ctx.hasher.verifyDummy(password);
    const admitted = found && ok && (found.user.tenant_id === client.tenant_id || (await ctx.tenants.isPlatform(client.tenant_id)));
    if (!found || !admitted) {
      if (!ok) await ctx.loginThrottle.failed(email);
      signIns.inc({ outcome: 'wrong_credentials' });
      audit('wrong_credentials', 400);
      sendLoginForm(res, 400, { ...form, error: WRONG_CREDENTIALS });
      return;
    }
    if (failures > 0) await ctx.loginThrottle.succeeded(email);
    // The form is single-use: of two posts racing with it, only the one that deletes it goes on.
    if ((await redis.del(formKey(formToken))) === 0) {
      sendErrorPage(res, 400, STALE_FORM);
      return;
    }
    const code = await codes.create({
      clientId: client.client_id,
      userId: found.user.id,
      tenantId: found.user.tenant_id,
      redirectUri: pending.redirect_uri,
      codeChallenge: pending.code_challenge,
      scope: pending.scope,
    });
    signIns.inc({ outcome: 'success' });
    audit('success', 303, found.user);
    redirect(res, pending.redirect_uri, { code, state: pending.state });
  });

  return router;
}
