import type { ActiveIntrospection, IntrospectionResponse, RevocationMessage } from '@cloud-stack/contracts';
import type { Logger, MetricsRegistry, ReadinessCheck } from '@cloud-stack/service-kit';
import { TokenCache } from './cache/token-cache';
import { IdentityUnavailableError } from './errors';
import { introspectionEndpoint, requestIntrospection } from './introspection/request';
import { RecentRevocations } from './revocations/recent-revocations';
import { RevocationSubscriber } from './revocations/subscriber';
import { tokenHash } from './token-hash';

export interface IdentityClientOptions {
  /** Identity's base URL; the endpoint is `${url}/oauth/introspect`, authenticated client_secret_basic. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Longest life of an active answer, default 30; the token's own `exp` shortens it. */
  readonly cacheTtlSeconds?: number;
  /** Life of an inactive answer, default 5; 0 asks identity every time. */
  readonly negativeTtlSeconds?: number;
  /** Answers kept at most, default 100 000 (the oldest go first). */
  readonly maxEntries?: number;
  /** Per introspection request, default 2000. */
  readonly timeoutMs?: number;
  /** Subscribe to identity's revocations; omit to run without (then only TTLs bound staleness). */
  readonly revocations?: { readonly redisUrl: string; readonly prefix?: string };
  readonly logger?: Logger;
  /**
   * Counters identity_introspection_cache_total{result=hit|miss|negative_hit},
   * identity_introspection_errors_total{code}, identity_revocations_received_total{kind=token|subject}.
   */
  readonly metrics?: MetricsRegistry;
}

export interface IdentityClientStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries removed before they expired: capacity, revocations, clears after a reconnect. */
  readonly evictions: number;
  readonly size: number;
}

export interface IdentityClient {
  /** Active or inactive answer; throws IdentityUnavailableError when identity cannot be asked (callers answer 503, never 401). */
  introspect(token: string): Promise<IntrospectionResponse>;
  /** Resolves once the revocation subscription is live (no-op without revocations). */
  ready(): Promise<void>;
  /** For /ready: fails while revocations are configured but not being heard. */
  readonly readiness: ReadinessCheck;
  close(): Promise<void>;
  stats(): IdentityClientStats;
}

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false as const });
/** How long heard revocations are checked against fresh answers (see RecentRevocations). */
const REMEMBER_REVOCATIONS_MS = 60_000;
/** Counters are summed locally and handed to the registry this often: a hit stays allocation-free. */
const METRICS_FLUSH_MS = 1_000;

/**
 * RFC 7662 client with a cache that listens to identity's revocations. A hit costs one SHA-256,
 * one Map lookup and an expiry check. Concurrent misses for one token share a request. Active
 * answers of access tokens live min(cacheTtlSeconds, exp - now) unless a revocation message
 * evicts them first (by token hash, jti, or subject and iat); inactive ones negativeTtlSeconds.
 */
export function createIdentityClient(options: IdentityClientOptions): IdentityClient {
  const ttlMs = seconds(options.cacheTtlSeconds ?? 30, 'cacheTtlSeconds');
  const negativeTtlMs = seconds(options.negativeTtlSeconds ?? 5, 'negativeTtlSeconds');
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  const endpoint = introspectionEndpoint(options.url, options.clientId, options.clientSecret, options.timeoutMs ?? 2_000);
  const { logger } = options;

  const cache = new TokenCache(maxEntries);
  const recent = new RecentRevocations(REMEMBER_REVOCATIONS_MS);
  const inflight = new Map<string, Promise<IntrospectionResponse>>();
  /** Bumped whenever the cache forgets everything: a request begun before must not fill it. */
  let epoch = 0;
  const counts = { hit: 0, miss: 0, negativeHit: 0 };
  const metrics = createMetrics(options.metrics, counts);

  const onRevocation = (message: RevocationMessage): void => {
    recent.record(message, Date.now());
    let evicted = 0;
    if (message.token_sha256 !== undefined) evicted += cache.evictKey(message.token_sha256);
    if (message.jti !== undefined) evicted += cache.evictJti(message.jti);
    const { sub, not_before: notBefore } = message;
    if (sub !== undefined && notBefore !== undefined) evicted += cache.evictSubject(sub, notBefore);
    metrics?.revocation(sub !== undefined && notBefore !== undefined ? 'subject' : 'token');
    logger?.debug({ jti: message.jti, sub: message.sub, evicted }, 'revocation heard');
  };

  const subscriber = options.revocations
    ? new RevocationSubscriber({
        redisUrl: options.revocations.redisUrl,
        prefix: options.revocations.prefix,
        logger,
        onRevocation,
        onSubscribed: () => {
          epoch++;
          if (cache.size > 0) logger?.info({ entries: cache.size }, 'revocation channel (re)subscribed; cache cleared, revocations may have been missed');
          cache.clear();
        },
      })
    : undefined;
  subscriber?.start();

  const fill = async (key: string, token: string): Promise<IntrospectionResponse> => {
    const startedIn = epoch;
    let response: IntrospectionResponse;
    try {
      response = await requestIntrospection(endpoint, token);
    } catch (err) {
      const code = err instanceof IdentityUnavailableError ? err.code : 'network';
      metrics?.error(code);
      logger?.warn({ err: (err as Error).message, code }, 'introspection failed');
      throw err;
    }
    const now = Date.now();
    // A revocation heard while the request was out (or moments before, by an identity instance
    // that had not heard it yet) wins over the answer.
    if (recent.revokes(key, response)) response = INACTIVE;
    if (startedIn !== epoch) return freeze(response);
    const expiresAt = response.active ? activeExpiry(response, now + ttlMs) : now + negativeTtlMs;
    const answer = freeze(response);
    if (expiresAt > now) {
      const resolved = Promise.resolve(answer);
      cache.set(key, answer.active ? { response: answer, resolved, expiresAt, jti: answer.jti, sub: answer.sub, iat: answer.iat } : { response: answer, resolved, expiresAt });
    }
    return answer;
  };

  return {
    introspect(token) {
      const key = tokenHash(token);
      const hit = cache.get(key, Date.now());
      if (hit !== undefined) {
        if (hit.response.active) counts.hit++;
        else counts.negativeHit++;
        return hit.resolved;
      }
      counts.miss++;
      let pending = inflight.get(key);
      if (pending === undefined) {
        pending = fill(key, token).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    },
    ready: () => subscriber?.ready() ?? Promise.resolve(),
    readiness: {
      name: 'identity-revocations',
      check: async () => {
        if (subscriber && !subscriber.isLive) {
          throw new Error(`not subscribed to ${subscriber.channel} since ${subscriber.notLiveSince?.toISOString() ?? 'start'}`);
        }
      },
    },
    async close() {
      await subscriber?.close();
      metrics?.stop();
      cache.clear();
    },
    stats: () => ({ hits: counts.hit + counts.negativeHit, misses: counts.miss, evictions: cache.evictions, size: cache.size }),
  };
}

/**
 * Only access-token answers are cached: revocation messages name access tokens (hash, jti,
 * subject and iat), so an answer lacking those could not be evicted when its token is revoked.
 */
function activeExpiry(response: ActiveIntrospection, ttlExpiry: number): number {
  if (response.jti === undefined || response.sub === undefined || response.iat === undefined) return 0;
  return response.exp === undefined ? ttlExpiry : Math.min(ttlExpiry, response.exp * 1000);
}

/** Answers are shared by every caller of a token; freezing keeps one caller from changing another's. */
function freeze(response: IntrospectionResponse): IntrospectionResponse {
  if (Object.isFrozen(response)) return response;
  if (response.active) {
    if (response.roles) Object.freeze(response.roles);
    if (Array.isArray(response.aud)) Object.freeze(response.aud);
  }
  return Object.freeze(response);
}

function seconds(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number of seconds`);
  return value * 1000;
}

interface ClientMetrics {
  error(code: string): void;
  revocation(kind: 'token' | 'subject'): void;
  stop(): void;
}

function createMetrics(registry: MetricsRegistry | undefined, counts: { readonly hit: number; readonly miss: number; readonly negativeHit: number }): ClientMetrics | undefined {
  if (!registry) return undefined;
  const cacheTotal = registry.counter('identity_introspection_cache_total', 'Introspections by cache result (hit, miss, negative_hit)');
  const errors = registry.counter('identity_introspection_errors_total', 'Introspection requests that got no usable answer, by code');
  const revocations = registry.counter('identity_revocations_received_total', 'Revocation messages heard, by kind (token, subject)');
  const flushed = { hit: 0, miss: 0, negativeHit: 0 };
  const flush = () => {
    if (counts.hit > flushed.hit) cacheTotal.inc({ result: 'hit' }, counts.hit - flushed.hit);
    if (counts.miss > flushed.miss) cacheTotal.inc({ result: 'miss' }, counts.miss - flushed.miss);
    if (counts.negativeHit > flushed.negativeHit) cacheTotal.inc({ result: 'negative_hit' }, counts.negativeHit - flushed.negativeHit);
    Object.assign(flushed, counts);
  };
  const timer = setInterval(flush, METRICS_FLUSH_MS);
  timer.unref();
  return {
    error: (code) => errors.inc({ code }),
    revocation: (kind) => revocations.inc({ kind }),
    stop: () => {
      clearInterval(timer);
      flush();
    },
  };
}
