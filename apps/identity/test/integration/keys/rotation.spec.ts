import { describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createLogger } from '@cloud-stack/service-kit';
import { openIdentity } from '@cloud-stack/identity-core';
import { introspect, useIdentity } from '../../support/harness';

const h = useIdentity();

const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid as string;
const jwksKids = async () => ((await request(h.app).get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid);

describe('signing key rotation', () => {
  it('signs new tokens with the new key while tokens of the old key stay valid', async () => {
    const { access_token: before } = await h.login('owner@cloudstack.example');
    const oldKid = kidOf(before);

    const rotated = await request(h.app).post('/v1/keys/rotate').auth(before, { type: 'bearer' });
    expect(rotated.status).toBe(201);
    const newKid = rotated.body.kid as string;
    expect(newKid).not.toBe(oldKid);
    expect(rotated.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: newKid, status: 'active' }),
        expect.objectContaining({ kid: oldKid, status: 'retired', verifies_until: expect.any(String) }),
      ]),
    );

    const after = await request(h.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'console', username: 'viewer@cloudstack.example', password: h.password('viewer@cloudstack.example') });
    expect(kidOf(after.body.access_token)).toBe(newKid);

    expect((await introspect(h, before)).body.active).toBe(true);
    expect((await introspect(h, after.body.access_token)).body.active).toBe(true);
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));

    // Once every token the old key could have signed has expired (TTL + grace after retirement),
    // the key stops verifying and leaves the JWKS.
    await h.ctx.db.updateTable('signing_keys').set({ retired_at: new Date(Date.now() - 3600 * 1000) }).where('kid', '=', oldKid).execute();
    await h.ctx.keys.reload();
    expect(await jwksKids()).toEqual([newKid]);
    expect((await introspect(h, before)).body).toEqual({ active: false });
  });

  it('picks up a rotation made by another instance through Redis', async () => {
    const current = h.ctx.keys.signingKey().kid;
    const other = await openIdentity(h.ctx.config, { logger: createLogger('identity-other', 'silent') });
    try {
      const kid = await other.rotateKey();
      for (let i = 0; i < 100 && h.ctx.keys.signingKey().kid !== kid; i++) await new Promise((r) => setTimeout(r, 20));
      expect(h.ctx.keys.signingKey().kid).toBe(kid);
      expect(kid).not.toBe(current);
      const { token } = other.accessTokens.issue({
        sub: 'svc', client_id: 'gateway', scope: '', tenant_id: 'platform', roles: [], is_governor: false, trial_mode: false, agent_id: null, email: null,
      });
      expect((await introspect(h, token)).body.active).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('lets only a platform owner rotate or list keys', async () => {
    const keysBefore = await h.ctx.db.selectFrom('signing_keys').selectAll().orderBy('kid').execute();
    const signingBefore = h.ctx.keys.signingKey().kid;
    const { access_token } = await h.login('admin@cloudstack.example');
    expect((await request(h.app).post('/v1/keys/rotate').auth(access_token, { type: 'bearer' })).status).toBe(403);
    // The refusal changed nothing: no new key, none retired, the same key signs.
    expect(await h.ctx.db.selectFrom('signing_keys').selectAll().orderBy('kid').execute()).toEqual(keysBefore);
    expect(h.ctx.keys.signingKey().kid).toBe(signingBefore);
    const acme = await h.login('admin@acme.example');
    expect((await request(h.app).get('/v1/keys').auth(acme.access_token, { type: 'bearer' })).status).toBe(403);
  });
});
