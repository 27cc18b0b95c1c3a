import { sql, type Kysely } from '@cloud-stack/db';

export interface PartitionWindow {
  /** Months before the current one to cover (late events); default 1. */
  readonly monthsBehind?: number;
  /** Months after the current one to create ahead; default 3. */
  readonly monthsAhead?: number;
  readonly now?: Date;
}

function addMonths(d: Date, months: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
}

/** Creates the monthly partitions of `audit_events` for the window around now; returns how many were new. */
export async function ensureAuditPartitions(db: Kysely<unknown>, window: PartitionWindow = {}): Promise<number> {
  const now = window.now ?? new Date();
  return ensurePartitionsBetween(db, addMonths(now, -(window.monthsBehind ?? 1)), addMonths(now, window.monthsAhead ?? 3));
}

/** Creates the monthly partitions covering [from, to]; idempotent and safe to run concurrently. */
export async function ensurePartitionsBetween(db: Kysely<unknown>, from: Date, to: Date): Promise<number> {
  const { rows } = await sql<{ created: number }>`SELECT audit_ensure_partitions(${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz) AS created`.execute(db);
  return Number(rows[0]?.created ?? 0);
}

export interface PartitionInfo {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** The range partitions of `audit_events`, oldest first. */
export async function listAuditPartitions(db: Kysely<unknown>): Promise<PartitionInfo[]> {
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL TimeZone = 'UTC'`.execute(trx);
    const { rows } = await sql<{ name: string; bound: string }>`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass`.execute(trx);
    const out: PartitionInfo[] = [];
    for (const r of rows) {
      const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
      if (!m) continue;
      const iso = (s: string) => new Date(s.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString();
      out.push({ name: r.name, from: iso(m[1]!), to: iso(m[2]!) });
    }
    return out.sort((a, b) => a.from.localeCompare(b.from));
  });
}
