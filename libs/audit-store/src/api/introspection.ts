import { createHash } from 'node:crypto';
import { IntrospectionResponseSchema, type IntrospectionResponse } from '@cloud-stack/contracts';

/** Asks identity whether a bearer token is active and whose it is. */
export type Introspect = (token: string) => Promise<IntrospectionResponse>;

export interface IntrospectionClientOptions {
  /** Base URL of identity (IDENTITY_URL); the endpoint is `${url}/oauth/introspect`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Upper bound of how long an answer is reused; a token's own `exp` shortens it. */
  readonly cacheTtlSeconds?: number;
  readonly maxEntries?: number;
  readonly timeoutMs?: number;
}

/** Identity could not be asked, or answered nonsense: callers answer 503, never 401. */
export class IntrospectionUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntrospectionUnavailableError';
  }
}

interface Entry {
  readonly response: IntrospectionResponse;
  readonly expiresAt: number;
}

/**
 * RFC 7662 client (client_secret_basic). Answers are cached under SHA-256 of the token, never the
 * token itself, for min(cacheTtlSeconds, exp - now).
 */
export function createIntrospectionClient(options: IntrospectionClientOptions): Introspect {
  const endpoint = new URL('/oauth/introspect', options.url).toString();
  const ttlMs = (options.cacheTtlSeconds ?? 30) * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const auth = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  const cache = new Map<string, Entry>();

  return async (token) => {
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now) return hit.response;
    if (hit) cache.delete(key);

    let body: unknown;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
      });
      if (!res.ok) throw new IntrospectionUnavailableError(`introspection answered ${res.status}`);
      body = await res.json();
    } catch (err) {
      if (err instanceof IntrospectionUnavailableError) throw err;
      throw new IntrospectionUnavailableError(`introspection failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const parsed = IntrospectionResponseSchema.safeParse(body);
    if (!parsed.success) throw new IntrospectionUnavailableError('introspection answer does not match RFC 7662');
    const response = parsed.data;
    const expMs = response.active && response.exp !== undefined ? response.exp * 1000 : Infinity;
    const expiresAt = Math.min(now + ttlMs, expMs);
    if (expiresAt > now) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, { response, expiresAt });
    }
    return response;
  };
}
