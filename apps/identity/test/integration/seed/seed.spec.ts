import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadSeed, readSeedFile } from '@cloud-stack/identity-core';
import { useIdentity } from '../../support/harness';

const h = useIdentity();

const counts = async () => ({
  tenants: (await h.ctx.db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  users: (await h.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  roles: (await h.ctx.db.selectFrom('user_roles').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  clients: (await h.ctx.db.selectFrom('oauth_clients').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
});

describe('demo seed', () => {
  it('loads a platform tenant restricted to one domain, a customer tenant, every role, a governor and a trial customer', () => {
    const { tenants, users, clients } = h.seed;
    expect(tenants).toEqual([
      expect.objectContaining({ id: 'platform', platform: true, allowed_email_domains: ['cloudstack.example'] }),
      expect.objectContaining({ id: 'acme', platform: false, allowed_email_domains: [] }),
    ]);
    for (const role of ['owner', 'admin', 'operator', 'developer', 'analyst', 'viewer', 'customer']) {
      expect(users.some((u) => u.roles.includes(role))).toBe(true);
    }
    expect(users.some((u) => u.is_governor)).toBe(true);
    expect(users.find((u) => u.trial_mode)).toMatchObject({ roles: ['customer'], agent_id: expect.any(String) });
    expect(clients.find((c) => c.client_id === 'gateway')).toMatchObject({ client_type: 'confidential', trusted: true, client_secret: expect.any(String) });
    expect(clients.some((c) => c.client_type === 'public')).toBe(true);
  });

  it('is idempotent: loading it again changes no counts and keeps every credential working', async () => {
    const before = await counts();
    const again = await loadSeed(h.ctx.db, await readSeedFile(), { scrypt: { logN: 8, r: 8, p: 1 } });
    expect(await counts()).toEqual(before);
    expect(again.users.map((u) => u.id)).toEqual(h.seed.users.map((u) => u.id));
    const login = await request(h.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'console', username: 'customer@acme.example', password: h.password('customer@acme.example') });
    expect(login.status).toBe(200);
    const gateway = await request(h.app).post('/oauth/token').auth('gateway', h.secret('gateway')).type('form').send({ grant_type: 'client_credentials' });
    expect(gateway.status).toBe(200);
  });

  it('refuses a seed whose user breaks the tenant’s domain rule', async () => {
    const seed = await readSeedFile();
    const bad = { ...seed, users: [{ tenant: 'platform', email: 'x@outside.example', password: 'long-enough', roles: ['viewer'] }] };
    await expect(loadSeed(h.ctx.db, bad, { scrypt: { logN: 8, r: 8, p: 1 } })).rejects.toThrow(/may not join/);
  });
});
