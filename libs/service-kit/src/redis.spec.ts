import { afterAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { ConfigError } from './config';
import { bullConnection, createRedisClient, isRedisClusterUrl, parseRedisUrl, pubSubUrl, requireHashTaggedPrefix } from './redis';

describe('REDIS_URL', () => {
  it('names one server with redis:// or rediss://, and a cluster with redis+cluster:// or rediss+cluster://', () => {
    expect(parseRedisUrl('redis://:pw@cache:6379/0')).toEqual({ kind: 'single', url: 'redis://:pw@cache:6379/0' });
    expect(parseRedisUrl('rediss+cluster://default:p%40ss@10.0.0.5:6379?node=10.0.0.6:6380&node=[::1]')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.5', port: 6379 },
        { host: '10.0.0.6', port: 6380 },
        { host: '::1', port: 6379 },
      ],
      username: 'default',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisUrl('redis+cluster://seed')).toEqual({ kind: 'cluster', nodes: [{ host: 'seed', port: 6379 }], tls: false });
    expect([isRedisClusterUrl('redis+cluster://seed:7000'), isRedisClusterUrl('redis://seed:7000'), isRedisClusterUrl('not a url')]).toEqual([true, false, false]);
  });

  it('refuses a cluster URL with a malformed seed node, naming REDIS_URL', () => {
    expect(() => parseRedisUrl('redis+cluster://seed:7000?node=a b')).toThrow(ConfigError);
    expect(() => parseRedisUrl('redis+cluster://seed:7000?node=a b')).toThrow(/^config error: REDIS_URL: .*node "a b" is not host:port$/);
  });

  it("gives subscribers a cluster's first seed node as a plain server, credentials kept", () => {
    expect(pubSubUrl('redis://:pw@cache:6379')).toBe('redis://:pw@cache:6379');
    expect(pubSubUrl('rediss+cluster://:p%40ss@10.0.0.5:7000?node=10.0.0.6:7001')).toBe('rediss://:p%40ss@10.0.0.5:7000');
    expect(pubSubUrl('redis+cluster://[::1]:7000')).toBe('redis://[::1]:7000');
  });

  it('requires a hash-tagged BullMQ prefix on a cluster only', () => {
    expect(() => requireHashTaggedPrefix('redis+cluster://seed:7000', 'AUDIT_QUEUE_PREFIX', 'bull')).toThrow(
      'config error: AUDIT_QUEUE_PREFIX: "bull" needs a hash tag such as "{bull}" when REDIS_URL is a cluster (redis+cluster://): a queue\'s keys must share one slot',
    );
    expect(() => requireHashTaggedPrefix('redis+cluster://seed:7000', 'AUDIT_QUEUE_PREFIX', '{audit}')).not.toThrow();
    expect(() => requireHashTaggedPrefix('redis://seed:7000', 'AUDIT_QUEUE_PREFIX', 'bull')).not.toThrow();
  });
});

// No server is contacted here (lazy connections, nothing sent): tools/dev/test/redis-cluster.spec.ts
// runs these connections against a real cluster, and every service's tests against a single Redis.
describe('connections from REDIS_URL', () => {
  const SINGLE = 'redis://127.0.0.1:1';
  const opened: Array<Redis | Cluster> = [];
  afterAll(() => opened.forEach((c) => c.disconnect()));

  it('opens a Redis for a single server and a Cluster for a cluster URL, with the options split between cluster and nodes', () => {
    const single = createRedisClient(SINGLE, { lazyConnect: true, commandTimeout: 500 });
    const cluster = createRedisClient('redis+cluster://:pw@127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 500 });
    opened.push(single, cluster);
    expect(single).toBeInstanceOf(Redis);
    expect(cluster).toBeInstanceOf(Cluster);
    const options = (cluster as Cluster).options;
    expect(options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: true });
    expect(options.redisOptions).toMatchObject({ password: 'pw', maxRetriesPerRequest: 1, commandTimeout: 500 });
  });

  it('hands BullMQ the URL of a single server (BullMQ owns those connections) and a Cluster it must not close for a cluster', async () => {
    const single = bullConnection(SINGLE);
    expect(single.connection).toEqual({ url: SINGLE });
    await single.close();
    const cluster = bullConnection('redis+cluster://127.0.0.1:1');
    expect(cluster.connection).toBeInstanceOf(Cluster);
    expect((cluster.connection as Cluster).options.redisOptions).toMatchObject({ maxRetriesPerRequest: null });
    await cluster.close();
    // Never connected (nothing listens on port 1): closing stops its reconnection attempts.
    expect((cluster.connection as Cluster).status).toMatch(/^(disconnecting|end)$/);
  });
});
