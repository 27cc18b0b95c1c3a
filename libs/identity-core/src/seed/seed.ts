import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RoleSchema } from '@cloud-stack/contracts';
import type { Kysely } from '@cloud-stack/db';
import type { IdentityDatabase } from '../db/schema';
import { PasswordHasher, type ScryptParams } from '../crypto/password';
import { ClientSecretHasher } from '../crypto/client-secret';
import { Tenants } from '../directory/tenants';
import { Users } from '../directory/users';
import { Clients, GRANT_TYPES } from '../directory/clients';

export const SeedSchema = z.strictObject({
  tenants: z.array(
    z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
      name: z.string().min(1),
      platform: z.boolean().optional(),
      allowed_email_domains: z.array(z.string()).optional(),
    }),
  ),
  users: z.array(
    z.strictObject({
      tenant: z.string(),
      email: z.email(),
      password: z.string().min(8),
      display_name: z.string().optional(),
      roles: z.array(RoleSchema),
      is_governor: z.boolean().optional(),
      trial_mode: z.boolean().optional(),
      agent_id: z.string().optional(),
    }),
  ),
  clients: z.array(
    z.strictObject({
      tenant: z.string(),
      client_id: z.string().regex(/^[A-Za-z0-9._-]{3,128}$/),
      name: z.string().min(1),
      client_type: z.enum(['confidential', 'public']),
      secret: z.string().min(16).optional(),
      grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
      scopes: z.array(z.string()).optional(),
      roles: z.array(RoleSchema).optional(),
      trusted: z.boolean().optional(),
      redirect_uris: z.array(z.string()).optional(),
    }),
  ),
});
export type Seed = z.infer<typeof SeedSchema>;

export interface SeedSummary {
  readonly tenants: Array<{ id: string; name: string; platform: boolean; allowed_email_domains: string[] }>;
  readonly users: Array<{ tenant: string; id: string; email: string; password: string; roles: string[]; is_governor: boolean; trial_mode: boolean; agent_id: string | null }>;
  readonly clients: Array<{ tenant: string; client_id: string; client_type: string; client_secret?: string; grant_types: string[]; trusted: boolean }>;
}

/** infra/seed/demo.json: beside the sources in the repository, else under the working directory (a bundled image). */
export function demoSeedPath(): string {
  const inRepo = fileURLToPath(new URL('../../../../infra/seed/demo.json', import.meta.url));
  return existsSync(inRepo) ? inRepo : resolve('infra/seed/demo.json');
}

export async function readSeedFile(path: string = demoSeedPath()): Promise<Seed> {
  return SeedSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/**
 * Loads demo data: upserts tenants (by id), users (by e-mail, roles replaced) and clients (by
 * client_id). Running it twice changes nothing. Returns what was loaded, credentials included.
 */
export async function loadSeed(db: Kysely<IdentityDatabase>, seedJson: unknown, options: { scrypt?: ScryptParams } = {}): Promise<SeedSummary> {
  const seed = SeedSchema.parse(seedJson);
  const hasher = new PasswordHasher(options.scrypt ?? { logN: 15, r: 8, p: 1 });
  const tenants = new Tenants(db);
  const users = new Users(db, hasher);
  const clients = new Clients(db, new ClientSecretHasher(hasher));

  const summary: SeedSummary = { tenants: [], users: [], clients: [] };
  for (const t of seed.tenants) {
    const row = await tenants.upsert({ id: t.id, name: t.name, is_platform: t.platform ?? false, allowed_email_domains: t.allowed_email_domains });
    summary.tenants.push({ id: row.id, name: row.name, platform: row.is_platform, allowed_email_domains: row.allowed_email_domains });
  }
  for (const u of seed.users) {
    const user = await users.upsert(u.tenant, {
      email: u.email,
      password: u.password,
      display_name: u.display_name ?? null,
      roles: u.roles,
      is_governor: u.is_governor ?? false,
      trial_mode: u.trial_mode ?? false,
      agent_id: u.agent_id ?? null,
    });
    summary.users.push({ tenant: u.tenant, id: user.id, email: user.email, password: u.password, roles: user.roles, is_governor: user.is_governor, trial_mode: user.trial_mode, agent_id: user.agent_id });
  }
  for (const c of seed.clients) {
    if (c.client_type === 'confidential' && !c.secret) throw new TypeError(`seed client ${c.client_id} is confidential but has no secret`);
    const row = await clients.upsert(c.tenant, {
      client_id: c.client_id,
      name: c.name,
      client_type: c.client_type,
      secret: c.client_type === 'confidential' ? c.secret : undefined,
      grant_types: c.grant_types,
      scopes: c.scopes,
      roles: c.roles,
      trusted: c.trusted,
      redirect_uris: c.redirect_uris,
    });
    summary.clients.push({
      tenant: row.tenant_id,
      client_id: row.client_id,
      client_type: row.client_type,
      ...(c.secret && row.client_type === 'confidential' ? { client_secret: c.secret } : {}),
      grant_types: row.grant_types,
      trusted: row.trusted,
    });
  }
  return summary;
}
