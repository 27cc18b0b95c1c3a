import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { REVOCATION_CHANNEL, RevocationMessageSchema, type RevocationMessage } from '@cloud-stack/contracts';
import { createLogger } from '@cloud-stack/service-kit';
import { openIdentity, type IdentityContext } from '@cloud-stack/identity-core';
import { testRedisUrl } from '@cloud-stack/test-kit';
import { introspect, useIdentity } from '../../support/harness';

const h = useIdentity();

/**
 * Access tokens live 15 minutes; a change to who a user is or may do must not wait for them to
 * expire. Changing roles, the governor flag, trial mode, the password, disabling or deleting a
 * user (and deleting a client or rotating its secret) revokes every access token of that subject
 * issued before the change, on every instance, and says so on the revocation channel.
 */
describe('access changes revoke issued tokens', () => {
  let owner: string;
  let subscriber: Redis;
  const messages: RevocationMessage[] = [];

  const login = async (email: string, password: string) =>
    request(h.app).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: email, password });
  const userId = async (email: string): Promise<string> => {
    const res = await request(h.app).get('/v1/tenants/platform/users').auth(owner, { type: 'bearer' });
    return res.body.items.find((u: { email: string }) => u.email === email).id;
  };
  const active = async (token: string): Promise<boolean> => (await introspect(h, token)).body.active;

  beforeAll(async () => {
    owner = (await h.login('owner@cloudstack.example')).access_token;
    subscriber = new Redis(testRedisUrl());
    await subscriber.subscribe(`${h.prefix}${REVOCATION_CHANNEL}`);
    subscriber.on('message', (_channel, raw: string) => messages.push(RevocationMessageSchema.parse(JSON.parse(raw))));
  });
  afterAll(async () => {
    subscriber.disconnect();
  });

  it('new roles: the old token is inactive at once, a new login carries the new roles', async () => {
    const email = 'developer@cloudstack.example';
    const before = (await login(email, h.password(email))).body.access_token as string;
    expect(await active(before)).toBe(true);
    const id = await userId(email);

    const put = await request(h.app).put(`/v1/tenants/platform/users/${id}/roles`).auth(owner, { type: 'bearer' }).send({ roles: ['viewer'] });
    expect(put.status).toBe(200);

    expect(await active(before)).toBe(false);
    // Issued in the same second as the change, and still active: the cutoff never catches a newer token.
    const after = (await login(email, h.password(email))).body.access_token as string;
    const claims = (await introspect(h, after)).body;
    expect(claims).toMatchObject({ active: true, sub: id });
    expect(claims.roles).toEqual(['viewer']);
    await waitFor(() => messages.some((m) => m.sub === id && typeof m.not_before === 'number'));
  });

  it('disabling: tokens go and logins fail; re-enabling lets the user back in', async () => {
    const email = 'analyst@cloudstack.example';
    const token = (await login(email, h.password(email))).body.access_token as string;
    const id = await userId(email);

    await request(h.app).patch(`/v1/tenants/platform/users/${id}`).auth(owner, { type: 'bearer' }).send({ disabled: true }).expect(200);
    expect(await active(token)).toBe(false);
    expect((await login(email, h.password(email))).body.error).toBe('invalid_grant');

    await request(h.app).patch(`/v1/tenants/platform/users/${id}`).auth(owner, { type: 'bearer' }).send({ disabled: false }).expect(200);
    expect(await active((await login(email, h.password(email))).body.access_token)).toBe(true);
  });

  it('a new password ends every session: access and refresh tokens', async () => {
    const email = 'operator@cloudstack.example';
    const session = (await login(email, h.password(email))).body as { access_token: string; refresh_token: string };
    const id = await userId(email);

    await request(h.app).patch(`/v1/tenants/platform/users/${id}`).auth(owner, { type: 'bearer' }).send({ password: 'a-brand-new-passphrase' }).expect(200);

    expect(await active(session.access_token)).toBe(false);
    const refreshed = await request(h.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'console', refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    expect(await active((await login(email, 'a-brand-new-passphrase')).body.access_token)).toBe(true);
  });

  it('a display-name change leaves tokens alone', async () => {
    const email = 'viewer@cloudstack.example';
    const token = (await login(email, h.password(email))).body.access_token as string;
    await request(h.app).patch(`/v1/tenants/platform/users/${await userId(email)}`).auth(owner, { type: 'bearer' }).send({ display_name: 'V. Viewer' }).expect(200);
    expect(await active(token)).toBe(true);
  });

  it('rotating a client secret revokes the client_credentials tokens minted with the old one', async () => {
    const minted = await request(h.app).post('/oauth/token').auth('acme-backend', h.secret('acme-backend')).type('form').send({ grant_type: 'client_credentials' });
    expect(minted.status).toBe(200);
    expect(await active(minted.body.access_token)).toBe(true);
    await request(h.app).post('/v1/tenants/acme/clients/acme-backend/secret').auth(owner, { type: 'bearer' }).expect(200);
    expect(await active(minted.body.access_token)).toBe(false);
  });

  it('another instance learns of the cutoff from Redis (and from the table when it starts)', async () => {
    const email = 'governor@cloudstack.example';
    const token = (await login(email, h.password(email))).body.access_token as string;
    const other: IdentityContext = await openIdentity(h.ctx.config, { logger: createLogger('identity-other', 'silent'), migrate: false });
    try {
      expect((await other.accessTokens.verify(token)).ok).toBe(true);
      await request(h.app).patch(`/v1/tenants/platform/users/${await userId(email)}`).auth(owner, { type: 'bearer' }).send({ is_governor: false }).expect(200);
      await waitFor(async () => !(await other.accessTokens.verify(token)).ok);
      expect(await other.accessTokens.verify(token)).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      await other.close();
    }
    const late = await openIdentity(h.ctx.config, { logger: createLogger('identity-late', 'silent'), migrate: false });
    try {
      expect(await late.accessTokens.verify(token)).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      await late.close();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met within 2 s');
}
