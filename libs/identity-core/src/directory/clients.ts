import type { Kysely, Selectable } from 'kysely';
import type { IdentityDatabase, OAuthClientsTable } from '../db/schema';
import type { ClientSecretHasher } from '../crypto/client-secret';
import { randomToken } from '../crypto/hash';
import { IdentityError, isUniqueViolation } from '../errors';
import { redirectUriProblem } from '../oauth/redirect-uris';

export type ClientRow = Selectable<OAuthClientsTable>;
export const GRANT_TYPES = ['authorization_code', 'password', 'client_credentials', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface ClientView {
  readonly client_id: string;
  readonly tenant_id: string;
  readonly name: string;
  readonly client_type: 'confidential' | 'public';
  readonly grant_types: string[];
  readonly scopes: string[];
  readonly roles: string[];
  readonly trusted: boolean;
  readonly redirect_uris: string[];
  /** RFC 7591: public clients authenticate with `none` (client_id alone). */
  readonly token_endpoint_auth_method: 'none' | 'client_secret_basic';
  readonly created_at: string;
}

export function clientView(row: ClientRow): ClientView {
  return {
    client_id: row.client_id,
    tenant_id: row.tenant_id,
    name: row.name,
    client_type: row.client_type,
    grant_types: row.grant_types,
    scopes: row.scopes,
    roles: row.roles,
    trusted: row.trusted,
    redirect_uris: row.redirect_uris,
    token_endpoint_auth_method: row.client_type === 'public' ? 'none' : 'client_secret_basic',
    created_at: row.created_at.toISOString(),
  };
}

export interface NewClient {
  readonly client_id?: string;
  readonly name: string;
  readonly client_type: 'confidential' | 'public';
  /** Only for the seed; otherwise a random secret is generated and returned once. */
  readonly secret?: string;
  readonly grant_types: readonly GrantType[];
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
  readonly trusted?: boolean;
  /** Exact redirect URIs; required by (and only for) the authorization_code grant. */
  readonly redirect_uris?: readonly string[];
}

/** Refuses a registration the authorization code flow could not use safely. */
function checkRedirectUris(input: NewClient): void {
  const uris = input.redirect_uris ?? [];
  if (input.grant_types.includes('authorization_code') && uris.length === 0) {
    throw new IdentityError('invalid', 'a client using authorization_code needs at least one redirect URI');
  }
  if (!input.grant_types.includes('authorization_code') && uris.length > 0) {
    throw new IdentityError('invalid', 'redirect URIs are only for clients using authorization_code');
  }
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new IdentityError('invalid', `redirect URI ${uri} ${problem}`);
  }
}

export class Clients {
  /** Called after a client changes, so cached authentications are dropped. */
  onChange: (clientId: string) => void = () => undefined;

  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly hasher: ClientSecretHasher,
  ) {}

  async find(clientId: string): Promise<ClientRow | undefined> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(clientId)) return undefined;
    return this.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  async get(tenantId: string, clientId: string): Promise<ClientRow> {
    const row = await this.find(clientId);
    if (!row || row.tenant_id !== tenantId) throw new IdentityError('not_found', `client ${clientId} not found`);
    return row;
  }

  async list(tenantId: string): Promise<ClientRow[]> {
    return this.db.selectFrom('oauth_clients').selectAll().where('tenant_id', '=', tenantId).orderBy('client_id').execute();
  }

  private async values(tenantId: string, input: NewClient) {
    const secret = input.client_type === 'confidential' ? (input.secret ?? randomToken('cs_')) : undefined;
    return {
      secret,
      row: {
        client_id: input.client_id ?? `${tenantId}-${randomToken().slice(0, 12).replace(/[^A-Za-z0-9]/g, 'x')}`,
        tenant_id: tenantId,
        name: input.name,
        client_type: input.client_type,
        secret_hash: secret === undefined ? null : await this.hasher.hash(secret),
        grant_types: [...new Set(input.grant_types)],
        scopes: [...new Set(input.scopes ?? [])],
        roles: [...new Set(input.roles ?? [])],
        trusted: input.trusted ?? false,
        redirect_uris: [...new Set(input.redirect_uris ?? [])],
      },
    };
  }

  /** Registers a client; a confidential client's secret is returned here and never again. */
  async create(tenantId: string, input: NewClient): Promise<{ client: ClientRow; client_secret?: string }> {
    if (input.client_type === 'public' && input.grant_types.includes('client_credentials')) {
      throw new IdentityError('invalid', 'a public client cannot use client_credentials');
    }
    checkRedirectUris(input);
    const { secret, row } = await this.values(tenantId, input);
    try {
      const client = await this.db.insertInto('oauth_clients').values(row).returningAll().executeTakeFirstOrThrow();
      return { client, ...(secret === undefined ? {} : { client_secret: secret }) };
    } catch (err) {
      if (isUniqueViolation(err)) throw new IdentityError('conflict', `client ${row.client_id} already exists`);
      if ((err as { code?: string }).code === '23503') throw new IdentityError('not_found', `tenant ${tenantId} not found`);
      throw err;
    }
  }

  /** Inserts or updates by client_id (the seed). */
  async upsert(tenantId: string, input: NewClient & { client_id: string }): Promise<ClientRow> {
    checkRedirectUris(input);
    const existing = await this.find(input.client_id);
    const { row } = await this.values(tenantId, input);
    // Keep the stored hash when the secret did not change, so re-seeding is a no-op.
    const unchanged = existing?.secret_hash && input.secret !== undefined && (await this.hasher.verify(input.secret, existing.secret_hash));
    const secret_hash = unchanged ? existing.secret_hash : row.secret_hash;
    const { client_id: _id, ...update } = { ...row, secret_hash };
    const client = await this.db
      .insertInto('oauth_clients')
      .values({ ...row, secret_hash })
      .onConflict((oc) => oc.column('client_id').doUpdateSet({ ...update, updated_at: new Date() }))
      .returningAll()
      .executeTakeFirstOrThrow();
    this.onChange(client.client_id);
    return client;
  }

  /**
   * Replaces a stored secret hash by an equivalent one (the same secret, a cheaper form), only if
   * it is still `from`: a rotation that happened meanwhile wins. Not a change of the client, so no
   * `onChange`: other instances' cached authentications stay valid.
   */
  async replaceSecretHash(clientId: string, from: string, to: string): Promise<boolean> {
    const result = await this.db
      .updateTable('oauth_clients')
      .set({ secret_hash: to })
      .where('client_id', '=', clientId)
      .where('secret_hash', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async rotateSecret(tenantId: string, clientId: string): Promise<string> {
    const client = await this.get(tenantId, clientId);
    if (client.client_type !== 'confidential') throw new IdentityError('invalid', 'a public client has no secret');
    const secret = randomToken('cs_');
    await this.db
      .updateTable('oauth_clients')
      .set({ secret_hash: await this.hasher.hash(secret), updated_at: new Date() })
      .where('client_id', '=', clientId)
      .execute();
    this.onChange(clientId);
    return secret;
  }

  async delete(tenantId: string, clientId: string): Promise<void> {
    await this.get(tenantId, clientId);
    await this.db.deleteFrom('oauth_clients').where('client_id', '=', clientId).execute();
    this.onChange(clientId);
  }
}
