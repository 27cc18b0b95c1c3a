import { createServer, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '@cloud-stack/service-kit';
import { freePort, useIdentityProcess } from '@cloud-stack/test-kit';
import { createIdentityClient, revocationChannel, tokenHash, type ActiveIntrospection, type IdentityClient, type IdentityClientOptions, type RevocationMessage } from '../src/index';
import { waitFor } from './support/wait';

const identity = useIdentityProcess();
const clients: IdentityClient[] = [];
let redis: Redis;

const client = async (options: Partial<IdentityClientOptions> = {}): Promise<IdentityClient> => {
  const c = createIdentityClient({
    url: identity.url,
    clientId: 'gateway',
    clientSecret: identity.secret('gateway'),
    revocations: { redisUrl: identity.redisUrl, prefix: identity.prefix },
    ...options,
  });
  clients.push(c);
  await c.ready();
  return c;
};
const active = async (c: IdentityClient, token: string): Promise<ActiveIntrospection> => {
  const answer = await c.introspect(token);
  if (!answer.active) throw new Error('expected an active answer');
  return answer;
};
const publish = (message: RevocationMessage) => redis.publish(revocationChannel(identity.prefix), JSON.stringify(message));

beforeAll(() => {
  redis = new Redis(identity.redisUrl);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => {
  redis?.disconnect();
});

describe('revocations heard from identity', () => {
  it('evicts a token revoked at identity (RFC 7009) within a second; the next answer is inactive', async () => {
    const metrics = new MetricsRegistry();
    const c = await client({ metrics });
    const heard: RevocationMessage[] = [];
    const listener = new Redis(identity.redisUrl);
    await listener.subscribe(revocationChannel(identity.prefix));
    listener.on('message', (_channel, raw: string) => heard.push(JSON.parse(raw) as RevocationMessage));
    const token = await identity.token('developer@cloudstack.example');
    const { jti } = await active(c, token);
    await active(c, token);
    expect(c.stats()).toMatchObject({ hits: 1, size: 1 });

    await identity.revoke(token, 'gateway');

    await waitFor('the revoked token to leave the cache', () => c.stats().size === 0, 1_000);
    // The cache key is the hash identity announces, not just a hash of our own.
    await waitFor('the message to reach the test’s own subscriber', () => heard.length > 0);
    listener.disconnect();
    expect(heard).toContainEqual(expect.objectContaining({ jti, token_sha256: tokenHash(token) }));
    const before = await identity.introspections();
    expect(await c.introspect(token)).toEqual({ active: false });
    expect((await identity.introspections()) - before).toBe(1);
    expect(metrics.render()).toContain('identity_revocations_received_total{kind="token"} 1');
  });

  it('evicts the tokens of a subject whose roles change at identity, and only theirs', async () => {
    const c = await client();
    const analyst = await identity.token('analyst@cloudstack.example');
    const bystander = await identity.token('viewer@cloudstack.example');
    const { sub } = await active(c, analyst);
    await active(c, bystander);
    expect(c.stats().size).toBe(2);

    const put = await identity.admin('PUT', `/v1/tenants/platform/users/${sub}/roles`, { roles: ['viewer'] });
    expect(put.status).toBe(200);

    await waitFor('the analyst’s token to leave the cache', () => c.stats().size === 1, 1_000);
    expect(await c.introspect(analyst)).toEqual({ active: false });
    const hitsBefore = c.stats().hits;
    expect(await c.introspect(bystander)).toMatchObject({ active: true });
    expect(c.stats().hits).toBe(hitsBefore + 1);
    // A token issued after the change is active and cached like any other.
    const fresh = await identity.token('analyst@cloudstack.example');
    expect(await active(c, fresh)).toMatchObject({ sub, roles: ['viewer'] });
    expect(await c.introspect(fresh)).toMatchObject({ active: true });
  });

  it('applies not_before as identity does: iat < not_before is revoked, iat = not_before stays', async () => {
    const c = await client();
    const token = await identity.token('operator@cloudstack.example');
    const { sub, iat } = await active(c, token);
    const before = await identity.introspections();

    // The cutoff's own second: identity bumps a token minted then to iat = not_before, and keeps it.
    await publish({ sub: sub!, not_before: iat! });
    await publish({ sub: 'someone-else', not_before: iat! + 1 });
    await publish({ jti: 'another-token', exp: iat! + 60 });
    // A message sent after these is heard after them: once it evicts, they have all been applied.
    const marker = await identity.token('admin@cloudstack.example');
    await active(c, marker);
    await publish({ token_sha256: tokenHash(marker) });
    await waitFor('the marker to leave the cache', () => c.stats().size === 1, 1_000);
    expect(await c.introspect(token)).toMatchObject({ active: true });
    expect((await identity.introspections()) - before).toBe(1); // only the marker

    await publish({ sub: sub!, not_before: iat! + 1 });
    await waitFor('the token issued before the cutoff to leave the cache', () => c.stats().size === 0, 1_000);
  });

  it('does not cache an answer that was in flight when its token was revoked', async () => {
    const c0 = await client();
    const token = await identity.token('governor@cloudstack.example');
    const claims = await active(c0, token);
    // An identity that holds its answer until the revocation has been heard, then says "active".
    const held: ServerResponse[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const metrics = new MetricsRegistry();
    const c = await client({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, metrics });
    try {
      const pending = c.introspect(token);
      await waitFor('the request to reach identity', () => held.length === 1);
      await publish({ jti: claims.jti!, exp: claims.exp!, token_sha256: tokenHash(token) });
      await waitFor('the revocation to be heard', () => metrics.render().includes('identity_revocations_received_total{kind="token"} 1'));
      held[0]!.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claims));

      expect(await pending).toEqual({ active: false });
      expect(await c.introspect(token)).toEqual({ active: false });
      expect(held).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('forgets the whole cache when the subscription comes back after a Redis disconnect', async () => {
    const c = await client();
    const token = await identity.token('admin@acme.example');
    await active(c, token);
    await c.readiness.check();
    const channel = revocationChannel(identity.prefix);

    // Messages published while the connection is down are lost: only an empty cache is safe.
    const clientsList = (await redis.client('LIST')) as string;
    const line = clientsList.split('\n').find((l) => l.includes(` name=identity-revocations:${channel} `));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    expect(id).toBeDefined();
    await redis.client('KILL', 'ID', id!);

    await waitFor('the cache to be cleared on resubscribe', () => c.stats().size === 0);
    await c.ready();
    await c.readiness.check();
    // And it listens again.
    await active(c, token);
    await identity.revoke(token, 'gateway');
    await waitFor('the revoked token to leave the cache', () => c.stats().size === 0, 1_000);
  });

  it('ignores a message that is not a RevocationMessage', async () => {
    const c = await client();
    const token = await identity.token('buyer@acme.example');
    await active(c, token);
    await redis.publish(revocationChannel(identity.prefix), 'not json');
    await redis.publish(revocationChannel(identity.prefix), JSON.stringify({ sub: 42 }));
    await identity.revoke(token, 'gateway');
    await waitFor('the revoked token to leave the cache', () => c.stats().size === 0, 1_000);
  });
});

describe('while Redis cannot be reached', () => {
  it('answers introspections, is not ready, and stops cleanly', async () => {
    const c = createIdentityClient({
      url: identity.url,
      clientId: 'gateway',
      clientSecret: identity.secret('gateway'),
      revocations: { redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: identity.prefix },
    });
    const ready = c.ready();

    await expect(c.readiness.check()).rejects.toThrow(/not subscribed/);
    expect(await c.introspect(await identity.token('customer@acme.example'))).toMatchObject({ active: true });

    await c.close();
    await expect(ready).rejects.toThrow(/closed/);
  });
});

describe('without revocations', () => {
  it('is ready at once and relies on TTLs alone', async () => {
    const c = createIdentityClient({ url: identity.url, clientId: 'gateway', clientSecret: identity.secret('gateway') });
    clients.push(c);
    await c.ready();
    await c.readiness.check();
    const token = await identity.token('customer@acme.example');
    await active(c, token);
    await identity.revoke(token, 'gateway');
    // Nobody tells this client: the answer stays cached until its TTL.
    expect(await c.introspect(token)).toMatchObject({ active: true });
  });
});
