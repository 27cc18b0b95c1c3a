import { sql, type Kysely } from '@cloud-stack/db';
import type { AuditCaller } from './caller';

export interface ReaderRoles {
  /** Role whose RLS policy shows rows of `app.tenant_id` only. */
  readonly tenant: string;
  /** Role whose RLS policy shows every row. */
  readonly platform: string;
}

export const DEFAULT_READER_ROLES: ReaderRoles = { tenant: 'audit_reader', platform: 'audit_platform_auditor' };

/**
 * Runs `fn` in a read-only transaction as the caller's database role: tenant auditors as the
 * reader role with `app.tenant_id` set (RLS filters every row), platform auditors as the
 * platform role. Isolation therefore holds in PostgreSQL whatever SQL runs inside.
 */
export async function asCaller<T>(db: Kysely<unknown>, caller: AuditCaller, roles: ReaderRoles, fn: (trx: Kysely<unknown>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SET TRANSACTION READ ONLY`.execute(trx);
    if (caller.platform) {
      await sql`SELECT set_config('role', ${roles.platform}, true)`.execute(trx);
      await sql`SELECT set_config('app.tenant_id', '', true)`.execute(trx);
    } else {
      await sql`SELECT set_config('role', ${roles.tenant}, true)`.execute(trx);
      await sql`SELECT set_config('app.tenant_id', ${caller.tenantId}, true)`.execute(trx);
    }
    return fn(trx);
  });
}
