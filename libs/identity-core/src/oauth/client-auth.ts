import type { Request } from 'express';
import type { PasswordHasher } from '../crypto/password';
import { sha256Hex } from '../crypto/hash';
import type { ClientRow, Clients } from '../directory/clients';
import { OAuthError } from './errors';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  readonly client: ClientRow;
  readonly method: ClientAuthMethod;
}

const MAX_CACHED = 10_000;

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
 * client_secret_post; public clients by client_id alone). Successful checks are remembered for
 * a short time, keyed by client and a SHA-256 of the presented secret, so a hot introspecting
 * client costs one hash and a map lookup instead of an scrypt per request.
 */
export class ClientAuthenticator {
  private readonly cache = new Map<string, { client: ClientRow; until: number }>();

  constructor(
    private readonly clients: Clients,
    private readonly hasher: PasswordHasher,
    private readonly ttlMs: number,
  ) {}

  invalidate(clientId: string): void {
    for (const [key, entry] of this.cache) if (entry.client.client_id === clientId) this.cache.delete(key);
  }

  async authenticate(req: Request, params: Record<string, string>, options: { confidentialOnly?: boolean } = {}): Promise<AuthenticatedClient> {
    const header = req.get('authorization');
    const basic = header !== undefined && /^Basic /i.test(header.trim());
    const fail = (description: string) => new OAuthError('invalid_client', description, basic);

    let id: string | undefined;
    let secret: string | undefined;
    let method: ClientAuthMethod;
    if (basic) {
      if (params.client_secret !== undefined) throw new OAuthError('invalid_request', 'use only one client authentication method');
      const creds = decodeBasic(header);
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
      const key = `${id}\u0000${sha256Hex(secret)}`;
      const hit = this.cache.get(key);
      if (hit && hit.until > Date.now()) return { client: hit.client, method };
      const client = await this.clients.find(id);
      const ok = client?.secret_hash ? await this.hasher.verify(secret, client.secret_hash) : await this.hasher.verifyDummy(secret);
      if (!client || !ok) throw fail('client authentication failed');
      if (this.ttlMs > 0) {
        if (this.cache.size >= MAX_CACHED) this.cache.clear();
        this.cache.set(key, { client, until: Date.now() + this.ttlMs });
      }
      return { client, method };
    }

    const client = await this.clients.find(id);
    if (!client || client.client_type !== 'public' || options.confidentialOnly) throw fail('client authentication failed');
    return { client, method };
  }
}
