import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { Redis } from 'ioredis';
import { REVOCATION_CHANNEL, RevocationMessageSchema, type RevocationMessage } from '@cloud-stack/contracts';
import { sha256Hex } from '@cloud-stack/identity-core';
import { testRedisUrl } from '@cloud-stack/test-kit';
import { GATEWAY, introspect, useIdentity } from '../../support/harness';

const h = useIdentity();

const login = (email: string) =>
  request(h.app).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: email, password: h.password(email) });
const refresh = (token: string, clientId = 'console') =>
  request(h.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token });
const revoke = (token: string) => request(h.app).post('/oauth/revoke').type('form').send({ client_id: 'console', token });

describe('refresh tokens and revocation', () => {
  let subscriber: Redis;
  const messages: RevocationMessage[] = [];

  beforeAll(async () => {
    subscriber = new Redis(testRedisUrl());
    await subscriber.subscribe(`${h.prefix}${REVOCATION_CHANNEL}`);
    subscriber.on('message', (_channel: string, raw: string) => messages.push(RevocationMessageSchema.parse(JSON.parse(raw))));
  });
  afterAll(() => subscriber.disconnect());

  const published = async (jti: string) => {
    for (let i = 0; i < 100 && !messages.some((m) => m.jti === jti); i++) await new Promise((r) => setTimeout(r, 20));
    return messages.find((m) => m.jti === jti);
  };

  it('rotates the refresh token on every use, in the same family', async () => {
    const first = await login('developer@cloudstack.example');
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toMatch(/^rt_/);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect((jwt.decode(second.body.access_token) as Record<string, unknown>).roles).toEqual(['developer', 'analyst', 'viewer']);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    const rows = await h.ctx.db.selectFrom('refresh_tokens').select(['family_id']).where('token_sha256', 'in', [first.body.refresh_token, third.body.refresh_token].map(sha256Hex)).execute();
    expect(new Set(rows.map((r) => r.family_id)).size).toBe(1);
  });

  it('revokes the whole family, access tokens included, when a spent refresh token comes back', async () => {
    const first = await login('operator@cloudstack.example');
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);

    const replay = await refresh(first.body.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });

    // The legitimate successor dies with the family, and so does every access token issued in it.
    const successor = await refresh(second.body.refresh_token);
    expect(successor.status).toBe(400);
    expect(successor.body.error).toBe('invalid_grant');
    expect((await introspect(h, first.body.access_token)).body).toEqual({ active: false });
    expect((await introspect(h, second.body.access_token)).body).toEqual({ active: false });
    const jti = (jwt.decode(second.body.access_token) as { jti: string }).jti;
    expect(await published(jti)).toMatchObject({ jti, token_sha256: sha256Hex(second.body.access_token), family_id: expect.any(String) });
  });

  it('binds a refresh token to the client it was issued to', async () => {
    const first = await login('analyst@cloudstack.example');
    const res = await request(h.app)
      .post('/oauth/token')
      .auth('acme-backend', h.secret('acme-backend'))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses to widen the scope on refresh', async () => {
    const narrow = await request(h.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'console', username: 'viewer@cloudstack.example', password: h.password('viewer@cloudstack.example'), scope: 'api' });
    const res = await request(h.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'console', refresh_token: narrow.body.refresh_token, scope: 'api admin' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('revokes an access token by jti and publishes it on Redis', async () => {
    const { body } = await login('viewer@cloudstack.example');
    const claims = jwt.decode(body.access_token) as { jti: string; exp: number };
    const res = await revoke(body.access_token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await introspect(h, body.access_token)).body).toEqual({ active: false });
    expect(await published(claims.jti)).toEqual({ jti: claims.jti, exp: claims.exp, token_sha256: sha256Hex(body.access_token) });
    const row = await h.ctx.db.selectFrom('revoked_tokens').selectAll().where('jti', '=', claims.jti).executeTakeFirst();
    expect(row?.expires_at.getTime()).toBe(claims.exp * 1000);
  });

  it('revokes a refresh token with its family', async () => {
    const { body } = await login('admin@acme.example');
    expect((await revoke(body.refresh_token)).status).toBe(200);
    expect((await refresh(body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await introspect(h, body.access_token)).body).toEqual({ active: false });
  });

  it('answers 200 for unknown, garbage and foreign tokens', async () => {
    for (const token of ['rt_unknown', 'garbage', 'a.b.c', jwt.sign({ sub: 'x' }, 'some-secret')]) {
      expect((await revoke(token)).status).toBe(200);
    }
  });

  it('lets the trusted gateway revoke any token', async () => {
    const { body } = await login('buyer@acme.example');
    const res = await request(h.app).post('/oauth/revoke').auth(GATEWAY, h.secret(GATEWAY)).type('form').send({ token: body.access_token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect((await introspect(h, body.access_token)).body).toEqual({ active: false });
  });

  it('refuses an untrusted client revoking another client’s token', async () => {
    const { body } = await login('governor@cloudstack.example');
    const res = await request(h.app).post('/oauth/revoke').auth('acme-backend', h.secret('acme-backend')).type('form').send({ token: body.access_token });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
    expect((await introspect(h, body.access_token)).body.active).toBe(true);
  });

  it('learns revocations made by another instance through Redis', async () => {
    const { body } = await login('owner@cloudstack.example');
    const claims = jwt.decode(body.access_token) as { jti: string; exp: number };
    const publisher = new Redis(testRedisUrl());
    await publisher.publish(`${h.prefix}${REVOCATION_CHANNEL}`, JSON.stringify({ jti: claims.jti, exp: claims.exp }));
    publisher.disconnect();
    let active = true;
    for (let i = 0; i < 100 && active; i++) {
      active = (await introspect(h, body.access_token)).body.active;
      if (active) await new Promise((r) => setTimeout(r, 20));
    }
    expect(active).toBe(false);
  });
});
