import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '@cloud-stack/service-kit';
import { freePort, useIdentityProcess } from '@cloud-stack/test-kit';
import { createIdentityClient, IdentityUnavailableError, type IdentityClient, type IdentityClientOptions } from '../src/index';

// Short-lived access tokens, so the test of the exp bound waits seconds, not minutes.
const identity = useIdentityProcess({ ACCESS_TOKEN_TTL_SECONDS: '4' });
const clients: IdentityClient[] = [];
const servers: Server[] = [];

const client = (options: Partial<IdentityClientOptions> = {}): IdentityClient => {
  const c = createIdentityClient({ url: identity.url, clientId: 'gateway', clientSecret: identity.secret('gateway'), ...options });
  clients.push(c);
  return c;
};

/** A stand-in identity that answers every introspection with `answer`. */
const fakeIdentity = async (answer: (res: import('node:http').ServerResponse) => void): Promise<string> => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
};

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('introspection through the cache', () => {
  it('asks identity once for an active token, then answers from the cache', async () => {
    const token = await identity.token('developer@cloudstack.example');
    const c = client();
    const before = await identity.introspections();

    const first = await c.introspect(token);
    const second = await c.introspect(token);

    expect(first).toMatchObject({ active: true, client_id: 'console', roles: expect.arrayContaining(['developer']) });
    expect(second).toBe(first);
    expect((await identity.introspections()) - before).toBe(1);
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
    // One answer serves every caller of the token, so no caller may change it.
    expect(() => Object.assign(first, { active: false })).toThrow(TypeError);
  });

  it('keeps an active answer no longer than the token lives, whatever the TTL', async () => {
    const token = await identity.token('analyst@cloudstack.example');
    const c = client({ cacheTtlSeconds: 3600 });
    const answer = await c.introspect(token);
    if (!answer.active || answer.exp === undefined) throw new Error('expected an active answer with exp');
    await c.introspect(token);
    const before = await identity.introspections();

    await new Promise((r) => setTimeout(r, Math.max(0, answer.exp! * 1000 - Date.now()) + 50));

    expect(await c.introspect(token)).toEqual({ active: false });
    expect((await identity.introspections()) - before).toBe(1);
  });

  it('caches an inactive answer for negativeTtlSeconds, and not at all with 0', async () => {
    const cached = client();
    const uncached = client({ negativeTtlSeconds: 0 });
    const before = await identity.introspections();

    for (let i = 0; i < 3; i++) expect(await cached.introspect('not-a-token-of-ours')).toEqual({ active: false });
    expect((await identity.introspections()) - before).toBe(1);

    for (let i = 0; i < 3; i++) expect(await uncached.introspect('not-a-token-of-ours')).toEqual({ active: false });
    expect((await identity.introspections()) - before).toBe(4);
    expect(cached.stats()).toMatchObject({ hits: 2, misses: 1 });
  });

  it('sends one request for concurrent misses of the same token', async () => {
    const token = await identity.token('operator@cloudstack.example');
    const c = client();
    const before = await identity.introspections();

    const answers = await Promise.all(Array.from({ length: 20 }, () => c.introspect(token)));

    expect((await identity.introspections()) - before).toBe(1);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatchObject({ active: true });
  });

  it('holds at most maxEntries answers, dropping the oldest first', async () => {
    const c = client({ maxEntries: 2 });
    for (const token of ['first', 'second', 'third']) await c.introspect(token);
    expect(c.stats()).toMatchObject({ size: 2, evictions: 1 });
    const before = await identity.introspections();

    await c.introspect('third');
    await c.introspect('first');

    expect((await identity.introspections()) - before).toBe(1);
  });

  it('counts hits, misses and negative hits in the metrics registry', async () => {
    const metrics = new MetricsRegistry();
    const c = client({ metrics });
    const token = await identity.token('viewer@cloudstack.example');
    await c.introspect(token);
    await c.introspect(token);
    await c.introspect('nope');
    await c.introspect('nope');
    await c.close();

    const text = metrics.render();
    expect(text).toContain('identity_introspection_cache_total{result="hit"} 1');
    expect(text).toContain('identity_introspection_cache_total{result="miss"} 2');
    expect(text).toContain('identity_introspection_cache_total{result="negative_hit"} 1');
  });
});

describe('when identity cannot give an answer', () => {
  it('throws IdentityUnavailableError when nothing listens', async () => {
    const metrics = new MetricsRegistry();
    const c = client({ url: `http://127.0.0.1:${await freePort()}`, metrics });

    const err = await c.introspect('some-token').catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IdentityUnavailableError);
    expect(err).toMatchObject({ code: 'network' });
    expect(metrics.render()).toContain('identity_introspection_errors_total{code="network"} 1');
  });

  it('throws IdentityUnavailableError, not inactive, when identity refuses the client', async () => {
    const c = client({ clientSecret: 'not-the-secret' });
    await expect(c.introspect(await identity.token('viewer@cloudstack.example'))).rejects.toMatchObject({ name: 'IdentityUnavailableError', code: 'http_status' });
  });

  it('throws IdentityUnavailableError on an answer that is not RFC 7662, and caches nothing', async () => {
    let calls = 0;
    const url = await fakeIdentity((res) => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(calls === 1 ? '{"active":"yes"}' : '<html>');
    });
    const c = client({ url });

    await expect(c.introspect('t')).rejects.toMatchObject({ name: 'IdentityUnavailableError', code: 'malformed_answer' });
    await expect(c.introspect('t')).rejects.toMatchObject({ name: 'IdentityUnavailableError', code: 'malformed_answer' });
    expect(calls).toBe(2);
    expect(c.stats().size).toBe(0);
  });

  it('throws IdentityUnavailableError when identity does not answer within timeoutMs', async () => {
    const url = await fakeIdentity(() => undefined);
    const c = client({ url, timeoutMs: 100 });
    await expect(c.introspect('t')).rejects.toMatchObject({ name: 'IdentityUnavailableError', code: 'timeout' });
  });
});
