import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface TenantsTable {
  id: string;
  name: string;
  is_platform: Generated<boolean>;
  /** Lower-case domains; empty means any e-mail may join. */
  allowed_email_domains: ColumnType<string[], string[] | undefined, string[]>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  display_name: string | null;
  is_governor: Generated<boolean>;
  trial_mode: Generated<boolean>;
  agent_id: string | null;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface UserRolesTable {
  user_id: string;
  tenant_id: string;
  role: string;
}

export interface OAuthClientsTable {
  client_id: string;
  tenant_id: string;
  name: string;
  client_type: 'confidential' | 'public';
  secret_hash: string | null;
  grant_types: ColumnType<string[], string[], string[]>;
  scopes: ColumnType<string[], string[], string[]>;
  /** Roles carried by client_credentials tokens. */
  roles: ColumnType<string[], string[] | undefined, string[]>;
  /** May introspect and revoke tokens issued to other clients (the gateway). */
  trusted: Generated<boolean>;
  /** Exact redirect URIs of the authorization code flow (no patterns). */
  redirect_uris: ColumnType<string[], string[] | undefined, string[]>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  private_key_pem: string;
  public_jwk: ColumnType<Record<string, string>, string, string>;
  status: 'active' | 'retired';
  created_at: CreatedAt;
  retired_at: Date | null;
}

export interface RefreshTokensTable {
  id: string;
  token_sha256: string;
  family_id: string;
  client_id: string;
  user_id: string;
  tenant_id: string;
  scope: string;
  access_jti: string | null;
  access_sha256: string | null;
  access_expires_at: Date | null;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export interface AuthorizationCodesTable {
  code_sha256: string;
  client_id: string;
  user_id: string;
  tenant_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  /** The refresh token family and access token issued from the code, revoked if it comes back. */
  family_id: string | null;
  access_jti: string | null;
  access_sha256: string | null;
  access_expires_at: Date | null;
}

export interface RevokedTokensTable {
  jti: string;
  expires_at: Date;
  revoked_at: CreatedAt;
}

export interface SubjectRevocationsTable {
  sub: string;
  not_before: Date;
  expires_at: Date;
  /** Moves forward when the subject is revoked again (other instances sync from it). */
  revoked_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface IdentityDatabase {
  tenants: TenantsTable;
  users: UsersTable;
  user_roles: UserRolesTable;
  oauth_clients: OAuthClientsTable;
  signing_keys: SigningKeysTable;
  refresh_tokens: RefreshTokensTable;
  authorization_codes: AuthorizationCodesTable;
  revoked_tokens: RevokedTokensTable;
  subject_revocations: SubjectRevocationsTable;
}
