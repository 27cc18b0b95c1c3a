import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { useIdentity, GATEWAY } from '../../support/harness';

// A two-second lifetime: a few seconds of steady load cross several of them, and a refresh (one
// database read, started at half the lifetime) has a second to finish even on a busy machine.
const h = useIdentity({ CLIENT_AUTH_CACHE_TTL_SECONDS: '2' });

const clientCredentials = (clientId: string, secret: string) =>
  request(h.app).post('/oauth/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });

const introspectAs = (clientId: string, secret: string, token: string) =>
  request(h.app).post('/oauth/introspect').auth(clientId, secret).type('form').send({ token });

async function newClient(): Promise<{ clientId: string; secret: string }> {
  const { client, client_secret } = await h.ctx.clients.create('acme', { name: 'cache test', client_type: 'confidential', grant_types: ['client_credentials'], scopes: ['api'] });
  return { clientId: client.client_id, secret: client_secret! };
}

async function storedHash(clientId: string): Promise<string> {
  const row = await h.ctx.db.selectFrom('oauth_clients').select('secret_hash').where('client_id', '=', clientId).executeTakeFirstOrThrow();
  return row.secret_hash!;
}

describe('client authentication cache', () => {
  it('runs one scrypt for many concurrent misses of the same client and secret', async () => {
    const { access_token } = await h.login('customer@acme.example');
    h.ctx.clientAuth.invalidate(GATEWAY);
    const scrypts = h.ctx.hasher.verifications;
    const lookups = h.ctx.clientAuth.stats.lookups;

    const answers = await Promise.all(Array.from({ length: 25 }, () => introspectAs(GATEWAY, h.secret(GATEWAY), access_token)));

    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(answers.every((r) => r.body.active === true)).toBe(true);
    expect(h.ctx.hasher.verifications - scrypts).toBe(1);
    expect(h.ctx.clientAuth.stats.lookups - lookups).toBe(1);
  });

  it('shares one verification among concurrent wrong secrets too, and caches none of them', async () => {
    const scrypts = h.ctx.hasher.verifications;
    const answers = await Promise.all(Array.from({ length: 10 }, () => clientCredentials(GATEWAY, 'not-the-secret')));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 401));
    expect(h.ctx.hasher.verifications - scrypts).toBe(1);
    expect((await clientCredentials(GATEWAY, 'not-the-secret')).status).toBe(401);
    expect(h.ctx.hasher.verifications - scrypts).toBe(2);
  });

  it('refreshes a hot entry before it expires: under steady load across several lifetimes no request waits on a cold lookup', async () => {
    const { access_token } = await h.login('customer@acme.example');
    h.ctx.clientAuth.invalidate(GATEWAY);
    expect((await introspectAs(GATEWAY, h.secret(GATEWAY), access_token)).status).toBe(200);
    const before = { ...h.ctx.clientAuth.stats, scrypts: h.ctx.hasher.verifications };

    // Four callers back to back for 3.5 lifetimes (each answer starts the caller's next request).
    const statuses = new Map<number, number>();
    const until = Date.now() + 7_000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const res = await introspectAs(GATEWAY, h.secret(GATEWAY), access_token);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );

    const after = h.ctx.clientAuth.stats;
    expect([...statuses.keys()]).toEqual([200]);
    expect(after.hits - before.hits).toBe(statuses.get(200));
    expect(after.coldWaits - before.coldWaits).toBe(0);
    expect(after.refreshes - before.refreshes).toBeGreaterThanOrEqual(3);
    // A refresh re-reads the client; the stored hash did not change, so the secret is not hashed again.
    expect(h.ctx.hasher.verifications - before.scrypts).toBe(0);
  });

  it('notices a secret changed behind its back (a missed invalidation) at the next refresh', async () => {
    const { clientId, secret } = await newClient();
    expect((await clientCredentials(clientId, secret)).status).toBe(200);
    // As if another instance rotated the secret and the Redis message never came.
    await h.ctx.db.updateTable('oauth_clients').set({ secret_hash: await storedHash(GATEWAY) }).where('client_id', '=', clientId).execute();

    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await clientCredentials(clientId, secret)).status;
    }
    expect(status).toBe(401);
  });
});

describe('client secrets', () => {
  it('stores a generated secret as a salted HMAC and verifies it without scrypt', async () => {
    const { clientId, secret } = await newClient();
    expect(secret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(await storedHash(clientId)).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);

    const scrypts = h.ctx.hasher.verifications;
    expect((await clientCredentials(clientId, secret)).status).toBe(200);
    expect((await clientCredentials(clientId, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).status).toBe(401);
    expect(h.ctx.hasher.verifications).toBe(scrypts);
  });

  it('migrates an scrypt hash of a generated secret to the HMAC form on its first successful use', async () => {
    const { clientId, secret } = await newClient();
    await h.ctx.db.updateTable('oauth_clients').set({ secret_hash: await h.ctx.hasher.hash(secret) }).where('client_id', '=', clientId).execute();
    h.ctx.clientAuth.invalidate(clientId);

    const scrypts = h.ctx.hasher.verifications;
    expect((await clientCredentials(clientId, secret)).status).toBe(200);
    expect(h.ctx.hasher.verifications - scrypts).toBe(1);
    expect(await storedHash(clientId)).toMatch(/^hmac-sha256\$/);

    h.ctx.clientAuth.invalidate(clientId);
    expect((await clientCredentials(clientId, secret)).status).toBe(200);
    expect(h.ctx.hasher.verifications - scrypts).toBe(1);
  });

  it('keeps scrypt for a secret a person chose (the seed)', async () => {
    expect(await storedHash(GATEWAY)).toMatch(/^scrypt\$/);
  });
});
