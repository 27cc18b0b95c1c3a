import { sql, type Kysely } from '@cloud-stack/db';
import type { AuditCategory } from '@cloud-stack/contracts';
import type { RetentionPolicy } from './policy';

/** pg_advisory_xact_lock key held while retention runs (ASCII "audret"). */
export const RETENTION_LOCK_KEY = 0x617564_726574;

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  readonly policy: RetentionPolicy;
  readonly now?: () => Date;
}

export interface DroppedPartition {
  readonly partition: string;
  readonly range_start: string;
  readonly range_end: string;
  readonly pruned_categories: AuditCategory[];
  readonly rows_pruned: number;
  readonly rows_archived: number;
}

export interface RetentionResult {
  readonly dropped: DroppedPartition[];
  /** Rows deleted from `audit_events_archive` once their own (long) retention ran out. */
  readonly archive_rows_pruned: number;
}

interface PartitionRow {
  schema: string;
  name: string;
  bound: string;
}

const BOUND = /FROM \('([^']+)'\) TO \('([^']+)'\)/;

/**
 * Enforces retention. A monthly partition of `audit_events` holds every category, so once its
 * whole range is past the shortest retention, the rows of categories still within their
 * retention (admin, governor: rare) are copied, unchanged, into `audit_events_archive`, and the
 * partition is detached and dropped. Archive rows are deleted when their own retention ends.
 * Every prune is logged in `audit_retention_log`, so verify reports those rows as pruned, not
 * deleted; digests and per-row hashes are kept, so the chain still verifies.
 */
export async function enforceRetention(db: Kysely<unknown>, options: RetentionOptions): Promise<RetentionResult> {
  const now = (options.now?.() ?? new Date()).getTime();
  const categories = Object.keys(options.policy) as AuditCategory[];
  const cutoff = (c: AuditCategory) => now - options.policy[c] * DAY_MS;
  const shortest = Math.min(...categories.map((c) => options.policy[c]));

  const partitions = await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL TimeZone = 'UTC'`.execute(trx);
    return (
      await sql<PartitionRow>`SELECT n.nspname AS schema, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.inhparent = 'audit_events'::regclass`.execute(trx)
    ).rows;
  });

  const dropped: DroppedPartition[] = [];
  for (const p of partitions) {
    const m = BOUND.exec(p.bound);
    if (!m) continue; // DEFAULT partition, or a bound this job does not understand: leave it alone
    const start = new Date(m[1]!.replace(' ', 'T').replace(/\+00$/, 'Z'));
    const end = new Date(m[2]!.replace(' ', 'T').replace(/\+00$/, 'Z'));
    if (Number.isNaN(end.getTime()) || end.getTime() > now - shortest * DAY_MS) continue;
    const expired = categories.filter((c) => end.getTime() <= cutoff(c));
    const table = sql.raw(`"${p.schema.replace(/"/g, '""')}"."${p.name.replace(/"/g, '""')}"`);
    const result = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint)`.execute(trx);
      const still = (await sql<{ ok: boolean }>`SELECT to_regclass(${`"${p.schema}"."${p.name}"`}) IS NOT NULL AS ok`.execute(trx)).rows[0];
      if (!still?.ok) return undefined; // another replica dropped it meanwhile
      const archived = await sql`INSERT INTO audit_events_archive SELECT * FROM ${table} WHERE NOT (category::text = ANY (${expired}::text[]))
        ON CONFLICT DO NOTHING`.execute(trx);
      const pruned = (await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM ${table} WHERE category::text = ANY (${expired}::text[])`.execute(trx)).rows[0];
      // The write path's dedupe table would otherwise keep every pruned id for ever.
      await sql`DELETE FROM audit_event_ids WHERE event_id IN (SELECT event_id FROM ${table} WHERE category::text = ANY (${expired}::text[]))`.execute(trx);
      await sql`ALTER TABLE audit_events DETACH PARTITION ${table}`.execute(trx);
      await sql`DROP TABLE ${table}`.execute(trx);
      const row: DroppedPartition = {
        partition: p.name,
        range_start: start.toISOString(),
        range_end: end.toISOString(),
        pruned_categories: expired,
        rows_pruned: Number(pruned?.n ?? 0),
        rows_archived: Number(archived.numAffectedRows ?? 0n),
      };
      await sql`INSERT INTO audit_retention_log (source_table, partition_name, range_start, range_end, categories, rows_pruned, rows_archived)
        VALUES ('audit_events', ${p.name}, ${start}, ${end}, ${expired}::text[], ${row.rows_pruned}, ${row.rows_archived})`.execute(trx);
      return row;
    });
    if (result) dropped.push(result);
  }

  let archive_rows_pruned = 0;
  for (const c of categories) {
    const before = new Date(cutoff(c));
    const n = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint)`.execute(trx);
      const res = await sql<{ n: number }>`WITH gone AS (
          DELETE FROM audit_events_archive WHERE category::text = ${c} AND occurred_at < ${before} RETURNING event_id
        ), ids AS (DELETE FROM audit_event_ids WHERE event_id IN (SELECT event_id FROM gone))
        SELECT count(*)::bigint AS n FROM gone`.execute(trx);
      const count = Number(res.rows[0]?.n ?? 0);
      if (count > 0) {
        await sql`INSERT INTO audit_retention_log (source_table, partition_name, range_start, range_end, categories, rows_pruned)
          VALUES ('audit_events_archive', NULL, '-infinity', ${before}, ARRAY[${c}]::text[], ${count})`.execute(trx);
      }
      return count;
    });
    archive_rows_pruned += n;
  }
  return { dropped, archive_rows_pruned };
}
