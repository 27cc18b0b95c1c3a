import type { Kysely, Selectable } from 'kysely';
import type { IdentityDatabase, TenantsTable } from '../db/schema';
import { IdentityError, isUniqueViolation } from '../errors';

export type TenantRow = Selectable<TenantsTable>;

export interface TenantView {
  readonly id: string;
  readonly name: string;
  readonly is_platform: boolean;
  readonly allowed_email_domains: string[];
  readonly created_at: string;
  readonly updated_at: string;
}

export function tenantView(row: TenantRow): TenantView {
  return {
    id: row.id,
    name: row.name,
    is_platform: row.is_platform,
    allowed_email_domains: row.allowed_email_domains,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** True when `email` may belong to `tenant`: no domain list, or its domain is on the list. */
export function emailAllowed(tenant: Pick<TenantRow, 'allowed_email_domains'>, email: string): boolean {
  if (!tenant.allowed_email_domains.length) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return tenant.allowed_email_domains.includes(domain);
}

const normalizeDomains = (domains: readonly string[] | undefined) => [...new Set((domains ?? []).map((d) => d.trim().toLowerCase()).filter(Boolean))];

export class Tenants {
  constructor(private readonly db: Kysely<IdentityDatabase>) {}

  async list(): Promise<TenantRow[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('id').execute();
  }

  async find(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<TenantRow> {
    const row = await this.find(id);
    if (!row) throw new IdentityError('not_found', `tenant ${id} not found`);
    return row;
  }

  async isPlatform(id: string): Promise<boolean> {
    return (await this.find(id))?.is_platform ?? false;
  }

  async create(input: { id: string; name: string; allowed_email_domains?: string[]; is_platform?: boolean }): Promise<TenantRow> {
    try {
      return await this.db
        .insertInto('tenants')
        .values({ id: input.id, name: input.name, is_platform: input.is_platform ?? false, allowed_email_domains: normalizeDomains(input.allowed_email_domains) })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (isUniqueViolation(err)) throw new IdentityError('conflict', `tenant ${input.id} already exists`);
      throw err;
    }
  }

  /** Inserts or updates by id (the seed). */
  async upsert(input: { id: string; name: string; allowed_email_domains?: string[]; is_platform?: boolean }): Promise<TenantRow> {
    const values = { id: input.id, name: input.name, is_platform: input.is_platform ?? false, allowed_email_domains: normalizeDomains(input.allowed_email_domains) };
    return this.db
      .insertInto('tenants')
      .values(values)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ name: values.name, is_platform: values.is_platform, allowed_email_domains: values.allowed_email_domains, updated_at: new Date() }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async update(id: string, patch: { name?: string; allowed_email_domains?: string[] }): Promise<TenantRow> {
    const row = await this.db
      .updateTable('tenants')
      .set({
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.allowed_email_domains === undefined ? {} : { allowed_email_domains: normalizeDomains(patch.allowed_email_domains) }),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new IdentityError('not_found', `tenant ${id} not found`);
    return row;
  }

  async delete(id: string): Promise<void> {
    const tenant = await this.get(id);
    if (tenant.is_platform) throw new IdentityError('forbidden', 'the platform tenant cannot be deleted');
    await this.db.deleteFrom('tenants').where('id', '=', id).execute();
  }
}
