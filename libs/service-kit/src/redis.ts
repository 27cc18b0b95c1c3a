import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from './config';

/**
 * One REDIS_URL for a single Redis or a Redis Cluster. `redis://` and `rediss://` name one server;
 * `redis+cluster://[user:password@]host:port` (or `rediss+cluster://` for TLS) names a cluster by
 * one of its nodes (or its discovery endpoint, as Memorystore for Redis Cluster gives it) — the
 * client learns the other nodes from it. More seed nodes, for start-up while that one is down:
 * `?node=host:port&node=host:port`.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>;
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
    };

const CLUSTER_PROTOCOLS: Readonly<Record<string, boolean>> = { 'redis+cluster:': false, 'rediss+cluster:': true };

/** Whether `url` names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isRedisClusterUrl(url: string): boolean {
  return URL.canParse(url) && new URL(url).protocol in CLUSTER_PROTOCOLS;
}

function hostPort(text: string, url: string): { host: string; port: number } {
  const parsed = URL.canParse(`redis://${text}`) ? new URL(`redis://${text}`) : null;
  if (!parsed?.hostname) throw new ConfigError('REDIS_URL', `${JSON.stringify(url)}: node ${JSON.stringify(text)} is not host:port`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) };
}

/** Reads a REDIS_URL; a malformed cluster URL is a ConfigError naming REDIS_URL. */
export function parseRedisUrl(url: string): RedisTarget {
  if (!isRedisClusterUrl(url)) return { kind: 'single', url };
  const parsed = new URL(url);
  const nodes = [parsed.host, ...parsed.searchParams.getAll('node')].filter(Boolean).map((n) => hostPort(n, url));
  if (!nodes.length) throw new ConfigError('REDIS_URL', `${JSON.stringify(url)} names no cluster node`);
  return {
    kind: 'cluster',
    nodes,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: CLUSTER_PROTOCOLS[parsed.protocol]!,
  };
}

/** What the services set on their command connections; each applies to a single server and to every node of a cluster. */
export interface RedisClientOptions {
  readonly enableOfflineQueue?: boolean;
  readonly lazyConnect?: boolean;
  readonly enableAutoPipelining?: boolean;
  readonly maxRetriesPerRequest?: number | null;
  readonly commandTimeout?: number;
}

/** A command connection to whatever REDIS_URL names. Both clients offer the same commands and scripts. */
export type RedisClient = Redis | Cluster;

function nodeOptions(target: Extract<RedisTarget, { kind: 'cluster' }>): RedisOptions {
  return {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
}

/** Opens a command connection to REDIS_URL: a Redis for `redis://`, a Cluster for `redis+cluster://`. */
export function createRedisClient(url: string, options: RedisClientOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return new Redis(url, options);
  const { enableOfflineQueue, lazyConnect, enableAutoPipelining, ...perNode } = options;
  return new Cluster(target.nodes.map((n) => ({ ...n })), {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: { ...nodeOptions(target), ...perNode },
  });
}

/**
 * A BullMQ `connection` for REDIS_URL. A single server: its URL, and BullMQ opens and closes its
 * own connections. A cluster: a Cluster instance (BullMQ cannot open one from options), which
 * BullMQ shares and never closes — `close` does, after the queue or worker using it has closed.
 */
export interface BullConnection {
  readonly connection: { readonly url: string } | Cluster;
  close(): Promise<void>;
}

export function bullConnection(url: string): BullConnection {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return { connection: { url }, close: async () => {} };
  // BullMQ's blocking commands must wait as long as they need: no per-command retry limit.
  const cluster = new Cluster(target.nodes.map((n) => ({ ...n })), { redisOptions: { ...nodeOptions(target), maxRetriesPerRequest: null } });
  return {
    connection: cluster,
    async close() {
      // quit() lets commands in flight finish; a cluster that never connected just stops retrying.
      if (cluster.status === 'ready') await cluster.quit().catch(() => cluster.disconnect());
      else cluster.disconnect();
    },
  };
}

/**
 * A URL for a subscriber (pub/sub): a cluster's first seed node as a plain server, since a message
 * published on any node of a cluster reaches the subscribers of every node.
 */
export function pubSubUrl(url: string): string {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return url;
  const auth = target.username || target.password ? `${encodeURIComponent(target.username ?? '')}:${encodeURIComponent(target.password ?? '')}@` : '';
  const node = target.nodes[0]!;
  return `${target.tls ? 'rediss' : 'redis'}://${auth}${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}`;
}

/**
 * On a cluster, a BullMQ prefix needs a hash tag (`{audit}`): the keys of one queue are used
 * together in scripts, and only a shared hash tag puts them in one slot. Throws a ConfigError
 * naming `variable` otherwise; on a single server every prefix is fine.
 */
export function requireHashTaggedPrefix(url: string, variable: string, prefix: string): void {
  if (isRedisClusterUrl(url) && !/\{[^}]+\}/.test(prefix)) {
    throw new ConfigError(variable, `${JSON.stringify(prefix)} needs a hash tag such as "{${prefix.replace(/[{}:]/g, '') || 'bull'}}" when REDIS_URL is a cluster (redis+cluster://): a queue's keys must share one slot`);
  }
}
