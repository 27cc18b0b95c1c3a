import { describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { AccessTokenClaimsSchema } from '@cloud-stack/contracts';
import { GATEWAY, useIdentity } from '../../support/harness';

const h = useIdentity();

const token = () => request(h.app).post('/oauth/token').type('form');

describe('POST /oauth/token', () => {
  it('issues an ES256 access token with kid and the platform claims for the password grant', async () => {
    const res = await token().send({ grant_type: 'password', client_id: 'console', username: 'customer@acme.example', password: h.password('customer@acme.example') });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'openid api admin' });
    expect(res.body.refresh_token).toMatch(/^rt_/);
    const decoded = jwt.decode(res.body.access_token, { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: h.ctx.keys.signingKey().kid });
    const claims = AccessTokenClaimsSchema.parse(decoded.payload);
    expect(claims).toMatchObject({
      iss: 'http://localhost:3333',
      aud: 'cloud-stack',
      client_id: 'console',
      tenant_id: 'acme',
      roles: ['customer'],
      is_governor: false,
      trial_mode: true,
      agent_id: 'agent-trial-001',
      email: 'customer@acme.example',
    });
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('carries the implied roles and the governor flag', async () => {
    const { access_token } = await h.login('governor@cloudstack.example');
    const claims = jwt.decode(access_token) as Record<string, unknown>;
    expect(claims.roles).toEqual(['operator', 'developer', 'analyst', 'viewer']);
    expect(claims.is_governor).toBe(true);
  });

  it('issues client_credentials tokens to a confidential client authenticated with HTTP Basic', async () => {
    const res = await token().auth(GATEWAY, h.secret(GATEWAY)).send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    const claims = jwt.decode(res.body.access_token) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'gateway', client_id: 'gateway', tenant_id: 'platform', scope: 'introspect' });
  });

  it('accepts client_secret_post', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: 'acme-backend', client_secret: h.secret('acme-backend') });
    expect(res.status).toBe(200);
    expect((jwt.decode(res.body.access_token) as Record<string, unknown>).roles).toEqual(['developer', 'analyst', 'viewer']);
  });

  it('answers a wrong client secret over Basic with 401 invalid_client and a challenge', async () => {
    const res = await token().auth(GATEWAY, 'wrong-secret').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a wrong client_secret_post with 401 invalid_client', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: GATEWAY, client_secret: 'nope' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers an unknown client with 401 invalid_client', async () => {
    const res = await token().auth('nobody', 'secret').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('gives the same answer for a wrong password and an unknown user, running scrypt for both', async () => {
    const before = h.ctx.hasher.verifications;
    const wrong = await token().send({ grant_type: 'password', client_id: 'console', username: 'admin@cloudstack.example', password: 'not-the-password' });
    const afterWrong = h.ctx.hasher.verifications;
    const unknown = await token().send({ grant_type: 'password', client_id: 'console', username: 'ghost@cloudstack.example', password: 'not-the-password' });
    const afterUnknown = h.ctx.hasher.verifications;
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
    expect(unknown.body).toEqual(wrong.body);
    expect(afterWrong - before).toBe(1);
    expect(afterUnknown - afterWrong).toBe(1);
  });

  it('refuses a tenant client signing in another tenant’s user with the same invalid_grant', async () => {
    const res = await token()
      .auth('acme-backend', h.secret('acme-backend'))
      .send({ grant_type: 'password', username: 'admin@cloudstack.example', password: h.password('admin@cloudstack.example') });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
  });

  it('rejects an unsupported grant type', async () => {
    const res = await token().auth(GATEWAY, h.secret(GATEWAY)).send({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  it('rejects a grant type the client is not registered for', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: 'console' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it('rejects a scope the client may not request', async () => {
    const res = await token().auth(GATEWAY, h.secret(GATEWAY)).send({ grant_type: 'client_credentials', scope: 'introspect admin' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('narrows the scope on request', async () => {
    const res = await token().send({ grant_type: 'password', client_id: 'console', username: 'viewer@cloudstack.example', password: h.password('viewer@cloudstack.example'), scope: 'api' });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('api');
  });

  it('requires form encoding and single-valued parameters', async () => {
    const json = await request(h.app).post('/oauth/token').send({ grant_type: 'client_credentials' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const repeated = await token().send('grant_type=password&grant_type=client_credentials&client_id=console');
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toBe('invalid_request');
  });

  it('rejects a missing grant_type or missing credentials with invalid_request', async () => {
    const noGrant = await token().send({ client_id: 'console' });
    expect(noGrant.body.error).toBe('invalid_request');
    const noPassword = await token().send({ grant_type: 'password', client_id: 'console', username: 'viewer@cloudstack.example' });
    expect(noPassword.body.error).toBe('invalid_request');
  });

  it('refuses two client authentication methods at once', async () => {
    const res = await token().auth(GATEWAY, h.secret(GATEWAY)).send({ grant_type: 'client_credentials', client_secret: h.secret(GATEWAY) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('publishes OAuth metadata and the JWKS', async () => {
    const meta = await request(h.app).get('/.well-known/openid-configuration');
    expect(meta.body).toMatchObject({
      issuer: 'http://localhost:3333',
      token_endpoint: 'http://localhost:3333/oauth/token',
      introspection_endpoint: 'http://localhost:3333/oauth/introspect',
      revocation_endpoint: 'http://localhost:3333/oauth/revoke',
      jwks_uri: 'http://localhost:3333/.well-known/jwks.json',
    });
    const jwks = await request(h.app).get('/.well-known/jwks.json');
    expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: h.ctx.keys.signingKey().kid })]);
    expect(jwks.body.keys[0].d).toBeUndefined();
  });
});
