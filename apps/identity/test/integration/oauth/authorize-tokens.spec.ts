import { beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { introspect, useIdentity } from '../../support/harness';
import { CONSOLE, ISSUER, exchange, refresh, signIn } from '../../support/authorize';

const h = useIdentity();
const USER = 'operator@cloudstack.example';
const OTHER = 'other-spa';
const OTHER_REDIRECT = 'https://spa.cloudstack.example/callback';

const revoke = (token: string, clientId = CONSOLE) => request(h.app).post('/oauth/revoke').type('form').send({ client_id: clientId, token });

beforeAll(async () => {
  await h.ctx.clients.create('platform', { client_id: OTHER, name: 'Another browser app', client_type: 'public', grant_types: ['authorization_code', 'refresh_token'], scopes: ['api'], redirect_uris: [OTHER_REDIRECT] });
});

describe('grant_type=authorization_code', () => {
  it('refuses a wrong or missing verifier and the challenge sent as verifier (plain), and leaves the code to its rightful owner', async () => {
    const { code, verifier } = await signIn(h, USER);
    const wrong = await exchange(h.app, { code, code_verifier: `${verifier.slice(0, -2)}xx` });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    // `plain`: the challenge sent back as the verifier.
    const row = await h.ctx.db.selectFrom('authorization_codes').select('code_challenge').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect((await exchange(h.app, { code, code_verifier: row.code_challenge })).body.error).toBe('invalid_grant');
    const missing = await exchange(h.app, { code });
    expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'missing parameter code_verifier' });
    expect((await exchange(h.app, { code, code_verifier: verifier })).status).toBe(200);
  });

  it('refuses a code at another redirect URI or for another client', async () => {
    const { code, verifier } = await signIn(h, USER);
    const elsewhere = await exchange(h.app, { code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:8080/__gateway/console/callback' });
    expect(elsewhere.body.error).toBe('invalid_grant');
    const otherClient = await exchange(h.app, { code, code_verifier: verifier, client_id: OTHER, redirect_uri: OTHER_REDIRECT });
    expect(otherClient.body.error).toBe('invalid_grant');
    // The password client is not registered for this grant at all.
    const passwordClient = await exchange(h.app, { code, code_verifier: verifier, client_id: 'console' });
    expect(passwordClient.body.error).toBe('unauthorized_client');
  });

  it('refuses an expired code', async () => {
    const { code, verifier } = await signIn(h, USER);
    await h.ctx.db.updateTable('authorization_codes').set({ expires_at: new Date(Date.now() - 1000) }).where('used_at', 'is', null).execute();
    const res = await exchange(h.app, { code, code_verifier: verifier });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('revokes the tokens issued from a code when the code comes back', async () => {
    const { code, verifier } = await signIn(h, USER);
    const first = await exchange(h.app, { code, code_verifier: verifier });
    expect(first.status).toBe(200);
    const replay = await exchange(h.app, { code, code_verifier: verifier });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await introspect(h, first.body.access_token)).body).toEqual({ active: false });
    expect((await refresh(h.app, first.body.refresh_token)).body.error).toBe('invalid_grant');
  });
});

describe('refresh and sign-out of a browser client', () => {
  it('rotates the refresh token, keeps it bound to the client, and revokes the family when a spent one returns', async () => {
    const { code, verifier } = await signIn(h, USER);
    const first = (await exchange(h.app, { code, code_verifier: verifier })).body;
    expect((await refresh(h.app, first.refresh_token, OTHER)).body.error).toBe('invalid_grant');
    const second = await refresh(h.app, first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.scope).toBe('openid api');

    expect((await refresh(h.app, first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(h.app, second.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await introspect(h, second.body.access_token)).body).toEqual({ active: false });
  });

  it('signs out by revoking the refresh token: the next refresh is refused and the access token is dead', async () => {
    const { code, verifier } = await signIn(h, USER);
    const tokens = (await exchange(h.app, { code, code_verifier: verifier })).body;
    const out = await revoke(tokens.refresh_token);
    expect(out.status).toBe(200);
    expect((await refresh(h.app, tokens.refresh_token)).body.error).toBe('invalid_grant');
    expect((await introspect(h, tokens.access_token)).body).toEqual({ active: false });
  });
});

describe('CORS, metadata and registration', () => {
  it('lets only registered redirect origins read token and revocation answers', async () => {
    const origin = 'http://localhost:8080';
    const preflight = await request(h.app).options('/oauth/token').set('Origin', origin).set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': origin, 'access-control-allow-methods': 'POST' });
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

    const foreign = await request(h.app).options('/oauth/revoke').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

    // A browser's token request (plain form, so past the node:http fast path) carries the header, errors too.
    const { code, verifier } = await signIn(h, USER);
    const ok = await exchange(h.app, { code, code_verifier: verifier }).set('Origin', origin);
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(origin);
    const bad = await refresh(h.app, 'rt_nothing').set('Origin', origin);
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe(origin);
    const evil = await refresh(h.app, 'rt_nothing').set('Origin', 'https://evil.example');
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('publishes the authorization endpoint, S256 only and the grant types', async () => {
    const res = await request(h.app).get('/.well-known/oauth-authorization-server');
    expect(res.body).toMatchObject({
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token', 'password', 'client_credentials']),
    });
  });

  it('registers exact redirect URIs only, and shows them with auth method none', async () => {
    const { access_token } = await h.login('owner@cloudstack.example');
    const create = (body: object) => request(h.app).post('/v1/tenants/platform/clients').auth(access_token, { type: 'bearer' }).send(body);
    const base = { name: 'SPA', client_type: 'public', grant_types: ['authorization_code', 'refresh_token'] };
    for (const redirect_uris of [[], ['https://*.example.com/cb'], ['http://spa.example.com/cb'], ['https://spa.example.com/cb#x'], ['/relative']]) {
      const res = await create({ ...base, redirect_uris });
      expect(res.status, JSON.stringify(redirect_uris)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    const ok = await create({ ...base, client_id: 'spa-ok', redirect_uris: ['https://spa.example.com/cb'] });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ client_id: 'spa-ok', redirect_uris: ['https://spa.example.com/cb'], token_endpoint_auth_method: 'none' });
  });
});
