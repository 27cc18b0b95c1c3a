import { sha256Hex } from '../crypto/hash';
import type { ClientSecretHasher } from '../crypto/client-secret';
import type { ClientRow, Clients } from '../directory/clients';
import { OAuthError } from './errors';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  readonly client: ClientRow;
  readonly method: ClientAuthMethod;
}

export interface ClientAuthOptions {
  /** How long a successful authentication is remembered; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept at most (the oldest goes first). */
  readonly maxEntries?: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
}

/** What the cache did, for tests and operators: counts only, never timings. */
export interface ClientAuthStats {
  /** Answered from a live entry. */
  hits: number;
  /** Requests that had to wait for a lookup (their own or one already running for the same key). */
  coldWaits: number;
  /** Lookups started: a database read, plus a secret verification when the stored hash is new to us. */
  lookups: number;
  /** Background refreshes started while the entry was still live. */
  refreshes: number;
}

interface Entry {
  client: ClientRow;
  expires: number;
  refreshAt: number;
  refreshing: boolean;
}

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * Client authentication for the token, introspection and revocation endpoints (HTTP Basic or
 * client_secret_post; public clients by client_id alone).
 *
 * Successful checks are remembered, keyed by client and a SHA-256 of the presented secret, so a
 * hot client costs one hash and a map lookup. The cache must never make every caller pay at once:
 * - concurrent misses for one key share one lookup (single flight);
 * - a live entry past half its lifetime is refreshed in the background by the request that sees
 *   it, so a client in steady use never meets an expired entry;
 * - a refresh re-reads the client row and verifies the secret again only when the stored hash
 *   changed: the secret already matched that very hash, so an unchanged hash needs no scrypt.
 * Changes to a client (rotation, deletion) drop its entries at once through `invalidate`; the
 * lifetime only bounds how long a missed invalidation can go unnoticed.
 */
export class ClientAuthenticator {
  readonly stats: ClientAuthStats = { hits: 0, coldWaits: 0, lookups: 0, refreshes: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<ClientRow | undefined>>();
  /** Bumped by `invalidate`, so a lookup that started before it does not store a stale row. */
  private generation = 0;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly clients: Clients,
    private readonly secrets: ClientSecretHasher,
    private readonly options: ClientAuthOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  invalidate(clientId: string): void {
    this.generation++;
    const prefix = `${clientId}\u0000`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
    for (const key of this.pending.keys()) if (key.startsWith(prefix)) this.pending.delete(key);
  }

  async authenticate(authorization: string | undefined, params: Readonly<Record<string, string>>, options: { confidentialOnly?: boolean } = {}): Promise<AuthenticatedClient> {
    const basic = authorization !== undefined && /^\s*Basic /i.test(authorization);
    const fail = (description: string) => new OAuthError('invalid_client', description, basic);

    let id: string | undefined;
    let secret: string | undefined;
    let method: ClientAuthMethod;
    if (basic) {
      if (params.client_secret !== undefined) throw new OAuthError('invalid_request', 'use only one client authentication method');
      const creds = decodeBasic(authorization);
      if (!creds) throw fail('malformed Basic credentials');
      if (params.client_id !== undefined && params.client_id !== creds.id) throw new OAuthError('invalid_request', 'client_id does not match the credentials');
      ({ id, secret } = creds);
      method = 'client_secret_basic';
    } else {
      id = params.client_id;
      secret = params.client_secret;
      method = secret === undefined ? 'none' : 'client_secret_post';
    }
    if (!id) throw fail('client authentication required');

    if (secret !== undefined) {
      const client = await this.withSecret(id, secret);
      if (!client) throw fail('client authentication failed');
      return { client, method };
    }

    const client = await this.clients.find(id);
    if (!client || client.client_type !== 'public' || options.confidentialOnly) throw fail('client authentication failed');
    return { client, method };
  }

  private withSecret(id: string, secret: string): Promise<ClientRow | undefined> | ClientRow {
    const key = `${id}\u0000${sha256Hex(secret)}`;
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry && entry.expires > now) {
      this.stats.hits++;
      if (now >= entry.refreshAt && !entry.refreshing) this.refresh(key, id, secret, entry);
      return entry.client;
    }
    this.stats.coldWaits++;
    let lookup = this.pending.get(key);
    if (!lookup) {
      const started = this.lookup(key, id, secret, undefined).finally(() => {
        if (this.pending.get(key) === started) this.pending.delete(key);
      });
      lookup = started;
      this.pending.set(key, lookup);
    }
    return lookup;
  }

  private refresh(key: string, id: string, secret: string, entry: Entry): void {
    entry.refreshing = true;
    this.stats.refreshes++;
    // A failed refresh (database down) leaves the entry to its expiry; the next one tries again.
    this.lookup(key, id, secret, entry.client)
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => (entry.refreshing = false));
  }

  /** Reads the client and checks the secret; stores the outcome unless an invalidation came in between. */
  private async lookup(key: string, id: string, secret: string, known: ClientRow | undefined): Promise<ClientRow | undefined> {
    this.stats.lookups++;
    const generation = this.generation;
    const client = await this.clients.find(id);
    let ok: boolean;
    if (!client?.secret_hash) {
      ok = await this.secrets.verifyDummy(secret);
    } else if (known?.secret_hash === client.secret_hash) {
      ok = true;
    } else {
      ok = await this.secrets.verify(secret, client.secret_hash);
      if (ok && this.secrets.needsUpgrade(secret, client.secret_hash)) await this.upgrade(client, secret);
    }
    if (generation !== this.generation) return ok ? client : undefined;
    if (!ok || !client) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.options.ttlMs > 0) {
      this.entries.delete(key);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      const now = this.now();
      this.entries.set(key, { client, expires: now + this.options.ttlMs, refreshAt: now + this.options.ttlMs / 2, refreshing: false });
    }
    return client;
  }

  /** Stores the cheap form of a generated secret's hash, now that the secret is known to match (once per client). */
  private async upgrade(client: ClientRow, secret: string): Promise<void> {
    try {
      await this.clients.replaceSecretHash(client.client_id, client.secret_hash!, this.secrets.fastHash(secret));
    } catch (err) {
      // The old hash still verifies; the next verification tries again.
      this.options.onError?.(err);
    }
  }
}
