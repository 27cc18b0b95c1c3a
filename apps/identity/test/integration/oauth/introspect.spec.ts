import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { IntrospectionResponseSchema } from '@cloud-stack/contracts';
import { introspect, useIdentity, GATEWAY } from '../../support/harness';

const h = useIdentity();

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('POST /oauth/introspect', () => {
  let valid: string;
  let claims: Record<string, unknown>;
  let kid: string;

  beforeAll(async () => {
    valid = (await h.login('customer@acme.example')).access_token;
    claims = jwt.decode(valid) as Record<string, unknown>;
    kid = h.ctx.keys.signingKey().kid;
  });

  /** Signs `payload` with identity's real private key (so only the named defect makes it invalid). */
  const signReal = (payload: Record<string, unknown>) => jwt.sign(payload, h.ctx.keys.signingKey().privateKey, { algorithm: 'ES256', keyid: kid });
  const hs256 = (secret: string) => {
    const head = b64({ alg: 'HS256', typ: 'JWT', kid });
    const body = b64({ ...claims, jti: 'hs-confusion' });
    return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
  };

  it('answers the full claim set for a valid access token', async () => {
    const res = await introspect(h, valid);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = IntrospectionResponseSchema.parse(res.body);
    expect(body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      iss: 'http://localhost:3333',
      aud: 'cloud-stack',
      sub: claims.sub,
      client_id: 'console',
      scope: 'openid api admin',
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      tenant_id: 'acme',
      roles: ['customer'],
      is_governor: false,
      trial_mode: true,
      agent_id: 'agent-trial-001',
      email: 'customer@acme.example',
    });
  });

  const hostile: Array<[string, () => string]> = [
    ['expired', () => signReal({ ...claims, jti: 'expired', iat: 1_000_000, exp: 1_000_900 })],
    ['tampered signature', () => {
      const [head, body, sig] = valid.split('.');
      const flipped = sig![0] === 'A' ? `B${sig!.slice(1)}` : `A${sig!.slice(1)}`;
      return `${head}.${body}.${flipped}`;
    }],
    ['tampered payload', () => {
      const [head, , sig] = valid.split('.');
      return `${head}.${b64({ ...claims, roles: ['owner'] })}.${sig}`;
    }],
    ['wrong issuer', () => signReal({ ...claims, jti: 'iss', iss: 'https://evil.example' })],
    ['wrong audience', () => signReal({ ...claims, jti: 'aud', aud: 'someone-else' })],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64({ ...claims, jti: 'none' })}.`],
    ['alg none with a signature', () => `${b64({ alg: 'none', kid })}.${b64(claims)}.${valid.split('.')[2]}`],
    ['HS256 signed with the public key PEM', () => hs256(createPublicKey(h.ctx.keys.signingKey().privateKey).export({ type: 'spki', format: 'pem' }).toString())],
    ['HS256 signed with the public JWK', () => hs256(JSON.stringify(h.ctx.keys.jwks().keys[0]))],
    ['RS256 with our kid', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return jwt.sign({ ...claims, jti: 'rs' }, privateKey, { algorithm: 'RS256', keyid: kid });
    }],
    ['unknown kid', () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return jwt.sign({ ...claims, jti: 'kid' }, privateKey, { algorithm: 'ES256', keyid: 'A'.repeat(43) });
    }],
    ['right kid, foreign key', () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return jwt.sign({ ...claims, jti: 'foreign' }, privateKey, { algorithm: 'ES256', keyid: kid });
    }],
    ['no kid', () => jwt.sign({ ...claims, jti: 'nokid' }, h.ctx.keys.signingKey().privateKey, { algorithm: 'ES256' })],
    ['garbage', () => 'this-is-not-a-token'],
    ['three dots of garbage', () => 'a.b.c'],
    ['bad base64 header', () => `!!!.${valid.split('.')[1]}.${valid.split('.')[2]}`],
    ['oversized', () => `${valid}${'A'.repeat(9000)}`],
    ['empty', () => ''],
    ['unknown refresh token', () => 'rt_doesnotexist'],
  ];

  for (const [name, make] of hostile) {
    it(`is inactive for a token that is ${name}`, async () => {
      const res = await introspect(h, make());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });
  }

  it('is inactive for a revoked token', async () => {
    const { access_token } = await h.login('viewer@cloudstack.example');
    expect((await introspect(h, access_token)).body.active).toBe(true);
    const revoked = await request(h.app).post('/oauth/revoke').type('form').send({ client_id: 'console', token: access_token });
    expect(revoked.status).toBe(200);
    expect((await introspect(h, access_token)).body).toEqual({ active: false });
  });

  it('describes a live refresh token and forgets a spent one', async () => {
    const res = await request(h.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'console', username: 'analyst@cloudstack.example', password: h.password('analyst@cloudstack.example') });
    const refresh = res.body.refresh_token as string;
    const live = await introspect(h, refresh);
    expect(live.body).toMatchObject({ active: true, token_type: 'refresh_token', client_id: 'console', tenant_id: 'platform' });
    await request(h.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'console', refresh_token: refresh });
    expect((await introspect(h, refresh)).body).toEqual({ active: false });
  });

  it('requires client authentication', async () => {
    const none = await request(h.app).post('/oauth/introspect').type('form').send({ token: valid });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    const wrong = await request(h.app).post('/oauth/introspect').auth(GATEWAY, 'wrong').type('form').send({ token: valid });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('refuses a public client', async () => {
    const res = await request(h.app).post('/oauth/introspect').type('form').send({ client_id: 'console', token: valid });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('keeps a cached client authentication tied to the secret presented', async () => {
    expect((await introspect(h, valid)).body.active).toBe(true);
    const wrong = await request(h.app).post('/oauth/introspect').auth(GATEWAY, `${h.secret(GATEWAY)}x`).type('form').send({ token: valid });
    expect(wrong.status).toBe(401);
  });

  it('tells an untrusted client only about its own tokens', async () => {
    const res = await request(h.app).post('/oauth/introspect').auth('acme-backend', h.secret('acme-backend')).type('form').send({ token: valid });
    expect(res.body).toEqual({ active: false });
    const own = await request(h.app).post('/oauth/token').auth('acme-backend', h.secret('acme-backend')).type('form').send({ grant_type: 'client_credentials' });
    const mine = await request(h.app).post('/oauth/introspect').auth('acme-backend', h.secret('acme-backend')).type('form').send({ token: own.body.access_token });
    expect(mine.body).toMatchObject({ active: true, client_id: 'acme-backend' });
  });

  it('rejects a missing token parameter with invalid_request', async () => {
    const res = await request(h.app).post('/oauth/introspect').auth(GATEWAY, h.secret(GATEWAY)).type('form').send({ token_type_hint: 'access_token' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
