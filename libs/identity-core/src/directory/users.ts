import type { Kysely, Selectable, Transaction } from 'kysely';
import { uuidv7, ROLES, ROLE_HIERARCHY, impliedRoles, type Role } from '@cloud-stack/contracts';
import type { IdentityDatabase, UsersTable } from '../db/schema';
import type { PasswordHasher } from '../crypto/password';
import { IdentityError, isUniqueViolation } from '../errors';
import { emailAllowed } from './tenants';

type UserRow = Selectable<UsersTable>;

export interface UserView {
  readonly id: string;
  readonly tenant_id: string;
  readonly email: string;
  readonly display_name: string | null;
  readonly roles: Role[];
  readonly is_governor: boolean;
  readonly trial_mode: boolean;
  readonly agent_id: string | null;
  readonly disabled: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface NewUser {
  readonly email: string;
  readonly password: string;
  readonly display_name?: string | null;
  readonly roles?: readonly Role[];
  readonly is_governor?: boolean;
  readonly trial_mode?: boolean;
  readonly agent_id?: string | null;
}

export interface UserPatch {
  readonly email?: string;
  readonly password?: string;
  readonly display_name?: string | null;
  readonly is_governor?: boolean;
  readonly trial_mode?: boolean;
  readonly agent_id?: string | null;
  readonly disabled?: boolean;
}

/** Granted roles plus every role they imply, in hierarchy order (what access tokens carry). */
export function effectiveRoles(granted: readonly string[]): Role[] {
  const set = new Set<Role>();
  for (const r of granted) if ((ROLES as readonly string[]).includes(r)) for (const i of impliedRoles(r as Role)) set.add(i);
  return ROLES.filter((r) => set.has(r));
}

/** The most powerful staff role in `roles`, as a rank (0 = owner); Infinity when none. */
export function topRank(roles: readonly string[]): number {
  return Math.min(...roles.map((r) => (ROLE_HIERARCHY as readonly string[]).indexOf(r)).filter((i) => i >= 0), Infinity);
}

function view(row: UserRow, roles: readonly string[]): UserView {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    email: row.email,
    display_name: row.display_name,
    roles: ROLES.filter((r) => roles.includes(r)),
    is_governor: row.is_governor,
    trial_mode: row.trial_mode,
    agent_id: row.agent_id,
    disabled: row.disabled,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const normalizeEmail = (email: string) => email.trim().toLowerCase();

export class Users {
  constructor(
    private readonly db: Kysely<IdentityDatabase>,
    private readonly hasher: PasswordHasher,
  ) {}

  private async rolesOf(userIds: readonly string[], db: Kysely<IdentityDatabase> = this.db): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!userIds.length) return out;
    const rows = await db.selectFrom('user_roles').select(['user_id', 'role']).where('user_id', 'in', userIds).execute();
    for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.role]);
    return out;
  }

  private async assertEmailAllowed(db: Kysely<IdentityDatabase>, tenantId: string, email: string): Promise<void> {
    const tenant = await db.selectFrom('tenants').select(['allowed_email_domains']).where('id', '=', tenantId).executeTakeFirst();
    if (!tenant) throw new IdentityError('not_found', `tenant ${tenantId} not found`);
    if (!emailAllowed(tenant, email)) throw new IdentityError('email_domain_not_allowed', `e-mail domain of ${email} may not join tenant ${tenantId}`);
  }

  private async writeRoles(trx: Transaction<IdentityDatabase>, tenantId: string, userId: string, roles: readonly Role[]): Promise<void> {
    await trx.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    const unique = [...new Set(roles)];
    if (unique.length) await trx.insertInto('user_roles').values(unique.map((role) => ({ user_id: userId, tenant_id: tenantId, role }))).execute();
  }

  async list(tenantId: string): Promise<UserView[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('email').execute();
    const roles = await this.rolesOf(rows.map((r) => r.id));
    return rows.map((r) => view(r, roles.get(r.id) ?? []));
  }

  async get(tenantId: string, id: string): Promise<UserView> {
    const row = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.db.selectFrom('users').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst()
      : undefined;
    if (!row) throw new IdentityError('not_found', `user ${id} not found`);
    return view(row, (await this.rolesOf([row.id])).get(row.id) ?? []);
  }

  /** Creates a user in `tenantId`; the tenant's allowed e-mail domains apply. */
  async create(tenantId: string, input: NewUser): Promise<UserView> {
    const email = normalizeEmail(input.email);
    const password_hash = await this.hasher.hash(input.password);
    try {
      const id = await this.db.transaction().execute(async (trx) => {
        await this.assertEmailAllowed(trx, tenantId, email);
        const row = await trx
          .insertInto('users')
          .values({
            id: uuidv7(),
            tenant_id: tenantId,
            email,
            password_hash,
            display_name: input.display_name ?? null,
            is_governor: input.is_governor ?? false,
            trial_mode: input.trial_mode ?? false,
            agent_id: input.agent_id ?? null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.writeRoles(trx, tenantId, row.id, input.roles ?? []);
        return row.id;
      });
      return this.get(tenantId, id);
    } catch (err) {
      if (isUniqueViolation(err)) throw new IdentityError('conflict', `a user with e-mail ${email} already exists`);
      throw err;
    }
  }

  /** Inserts or updates by e-mail (the seed); roles are replaced. */
  async upsert(tenantId: string, input: NewUser): Promise<UserView> {
    const email = normalizeEmail(input.email);
    const existing = await this.db.selectFrom('users').select(['id', 'tenant_id', 'password_hash']).where('email', '=', email).executeTakeFirst();
    if (!existing) return this.create(tenantId, input);
    const password_hash = (await this.hasher.verify(input.password, existing.password_hash)) ? existing.password_hash : await this.hasher.hash(input.password);
    await this.db.transaction().execute(async (trx) => {
      await this.assertEmailAllowed(trx, tenantId, email);
      await trx
        .updateTable('users')
        .set({
          tenant_id: tenantId,
          password_hash,
          display_name: input.display_name ?? null,
          is_governor: input.is_governor ?? false,
          trial_mode: input.trial_mode ?? false,
          agent_id: input.agent_id ?? null,
          disabled: false,
          updated_at: new Date(),
        })
        .where('id', '=', existing.id)
        .execute();
      await this.writeRoles(trx, tenantId, existing.id, input.roles ?? []);
    });
    return this.get(tenantId, existing.id);
  }

  async update(tenantId: string, id: string, patch: UserPatch): Promise<UserView> {
    await this.get(tenantId, id);
    const email = patch.email === undefined ? undefined : normalizeEmail(patch.email);
    const password_hash = patch.password === undefined ? undefined : await this.hasher.hash(patch.password);
    try {
      await this.db.transaction().execute(async (trx) => {
        if (email !== undefined) await this.assertEmailAllowed(trx, tenantId, email);
        await trx
          .updateTable('users')
          .set({
            ...(email === undefined ? {} : { email }),
            ...(password_hash === undefined ? {} : { password_hash }),
            ...(patch.display_name === undefined ? {} : { display_name: patch.display_name }),
            ...(patch.is_governor === undefined ? {} : { is_governor: patch.is_governor }),
            ...(patch.trial_mode === undefined ? {} : { trial_mode: patch.trial_mode }),
            ...(patch.agent_id === undefined ? {} : { agent_id: patch.agent_id }),
            ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .where('tenant_id', '=', tenantId)
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new IdentityError('conflict', `a user with e-mail ${email} already exists`);
      if ((err as { code?: string }).code === '23514') throw new IdentityError('invalid', 'trial mode needs an agent_id');
      throw err;
    }
    return this.get(tenantId, id);
  }

  async setRoles(tenantId: string, id: string, roles: readonly Role[]): Promise<UserView> {
    await this.get(tenantId, id);
    await this.db.transaction().execute((trx) => this.writeRoles(trx, tenantId, id, roles));
    return this.get(tenantId, id);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.db.deleteFrom('users').where('id', '=', id).where('tenant_id', '=', tenantId).execute();
  }

  /** The active user with this e-mail and their granted roles, with the password hash (login only). */
  async findForLogin(email: string): Promise<{ user: UserRow; roles: string[] } | undefined> {
    const user = await this.db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).where('disabled', '=', false).executeTakeFirst();
    if (!user) return undefined;
    return { user, roles: (await this.rolesOf([user.id])).get(user.id) ?? [] };
  }

  /** The active user by id with granted roles (refreshing a token re-reads them). */
  async findActive(id: string): Promise<{ user: UserRow; roles: string[] } | undefined> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', id).where('disabled', '=', false).executeTakeFirst();
    if (!user) return undefined;
    return { user, roles: (await this.rolesOf([user.id])).get(user.id) ?? [] };
  }
}
