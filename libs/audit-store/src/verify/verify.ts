import { sql, type Kysely } from '@cloud-stack/db';
import { digestHash, rowHashSql, type DigestBody } from '../seal/canonical';
import { verifySignature } from '../seal/signing-key';

export interface VerifyOptions {
  readonly from: Date;
  readonly to: Date;
  /** Set for a tenant's auditor: event ids are listed only for that tenant's rows (counts stay global). */
  readonly tenantId?: string;
  /** Most event ids listed per finding; counts are always complete. */
  readonly maxIds?: number;
  /**
   * A digest recorded outside the database earlier (a past `chain_head`): the chain must still
   * hold it unchanged. This is what catches a chain cut short at its end.
   */
  readonly anchor?: { readonly digestNo: number; readonly digestHash: string };
}

export interface AnchorCheck {
  readonly digest_no: number;
  readonly digest_hash: string;
  /** The chain still has a digest with that number. */
  readonly found: boolean;
  /** ... and its hash is the recorded one. */
  readonly matches: boolean;
}

export interface RowFinding {
  /** Event ids (up to maxIds, only the caller's tenant for tenant auditors). */
  readonly ids: string[];
  /** All findings of this kind in the range, every tenant. */
  readonly count: number;
}

export interface PrunedInterval {
  readonly digest_no: number;
  readonly interval_start: string;
  readonly interval_end: string;
  readonly rows_pruned: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly from: string;
  readonly to: string;
  readonly digests_checked: number;
  readonly first_digest_no: number | null;
  readonly last_digest_no: number | null;
  readonly rows_checked: number;
  readonly rows_modified: RowFinding;
  readonly rows_deleted: RowFinding;
  readonly rows_inserted_after_sealing: RowFinding;
  /** Digest numbers whose link to the previous digest is broken (wrong hash, gap, overlap, missing predecessor). */
  readonly broken_chain_links: number[];
  /** Digest numbers whose signature does not verify against their recomputed content (or whose key is unknown). */
  readonly bad_signatures: number[];
  /** Digest numbers whose stored per-row hashes no longer add up to the signed rows_hash / row_count. */
  readonly altered_row_hashes: number[];
  /** Intervals (partly) dropped by retention: missing rows there are expected, not deletions. */
  readonly pruned_by_retention: PrunedInterval[];
  /** Rows in the range newer than the chain head: not sealed yet, so not verifiable yet. */
  readonly unsealed_rows: number;
  /**
   * The newest digest. Record it outside the database from time to time: a chain cut short at
   * its end (newest digests deleted with their rows) is only visible against such a record.
   */
  readonly chain_head: { readonly digest_no: number; readonly digest_hash: string; readonly interval_end: string } | null;
  /** The result of checking `anchor`, when one was given (a mismatch makes `ok` false). */
  readonly anchor: AnchorCheck | null;
}

interface DigestRow {
  digest_no: number;
  interval_start: Date;
  interval_end: Date;
  row_count: number;
  rows_hash: string;
  prev_digest_hash: string | null;
  digest_hash: string;
  signature: string;
  key_id: string;
  sealed_at: Date;
}

interface DiffRow {
  kind: 'modified' | 'deleted' | 'inserted' | 'pruned';
  total: number;
  ids: string[] | null;
}

const EMPTY: RowFinding = { ids: [], count: 0 };

/** Recomputes the sealed record between `from` and `to` and names everything that changed since sealing. */
export async function verifyAuditLog(db: Kysely<unknown>, options: VerifyOptions): Promise<VerifyReport> {
  const { from, to } = options;
  const maxIds = options.maxIds ?? 1000;
  return db.transaction().execute(async (trx) => {
    await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`.execute(trx);
    const digests = (
      await sql<DigestRow>`SELECT * FROM audit_digests
        WHERE digest_no >= coalesce((SELECT max(digest_no) FROM audit_digests WHERE interval_start <= ${from}), 1)
          AND interval_start < ${to}
        ORDER BY digest_no`.execute(trx)
    ).rows.filter((d) => d.interval_end > from || d.interval_start >= from);
    const keys = new Map(
      (await sql<{ key_id: string; public_key_pem: string }>`SELECT key_id, public_key_pem FROM audit_signing_keys`.execute(trx)).rows.map((k) => [k.key_id, k.public_key_pem]),
    );

    const bad_signatures: number[] = [];
    const broken_chain_links: number[] = [];
    const first = digests[0];
    let prev: DigestRow | undefined =
      first && first.digest_no > 1
        ? (await sql<DigestRow>`SELECT * FROM audit_digests WHERE digest_no = ${first.digest_no - 1}`.execute(trx)).rows[0]
        : undefined;
    for (const d of digests) {
      const body: DigestBody = {
        digest_no: d.digest_no,
        interval_start: d.interval_start.toISOString(),
        interval_end: d.interval_end.toISOString(),
        row_count: Number(d.row_count),
        rows_hash: d.rows_hash,
        prev_digest_hash: d.prev_digest_hash,
        key_id: d.key_id,
        sealed_at: d.sealed_at.toISOString(),
      };
      const recomputed = digestHash(body);
      const key = keys.get(d.key_id);
      if (recomputed !== d.digest_hash || !key || !verifySignature(key, Buffer.from(recomputed, 'hex'), d.signature)) bad_signatures.push(d.digest_no);
      const linked =
        d.digest_no === 1
          ? d.prev_digest_hash === null
          : prev !== undefined &&
            prev.digest_no === d.digest_no - 1 &&
            d.prev_digest_hash === prev.digest_hash &&
            d.interval_start.getTime() === prev.interval_end.getTime();
      if (!linked) broken_chain_links.push(d.digest_no);
      prev = d;
    }

    const head = (await sql<{ digest_no: number; interval_end: Date; digest_hash: string }>`SELECT digest_no, interval_end, digest_hash FROM audit_digests ORDER BY digest_no DESC LIMIT 1`.execute(trx)).rows[0];
    const genesis = (await sql<{ interval_start: Date }>`SELECT interval_start FROM audit_digests ORDER BY digest_no LIMIT 1`.execute(trx)).rows[0]?.interval_start;
    const tenant = options.tenantId ?? null;

    let altered_row_hashes: number[] = [];
    let rows_checked = 0;
    const findings = new Map<DiffRow['kind'], RowFinding>();
    let pruned_by_retention: PrunedInterval[] = [];
    if (digests.length > 0) {
      const lo = digests[0]!.interval_start;
      const hi = digests[digests.length - 1]!.interval_end;
      const hiStart = digests[digests.length - 1]!.interval_start;

      const roots = (
        await sql<{ interval_start: Date; n: number; h: string }>`SELECT interval_start, count(*)::bigint AS n,
            encode(sha256(string_agg(row_hash, ''::bytea ORDER BY occurred_at, event_id)), 'hex') AS h
          FROM audit_row_hashes WHERE interval_start >= ${lo} AND interval_start <= ${hiStart} GROUP BY interval_start`.execute(trx)
      ).rows;
      const byStart = new Map(roots.map((r) => [r.interval_start.getTime(), r]));
      const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
      altered_row_hashes = digests
        .filter((d) => {
          const r = byStart.get(d.interval_start.getTime());
          return (r ? Number(r.n) : 0) !== Number(d.row_count) || (r ? r.h : emptyHash) !== d.rows_hash;
        })
        .map((d) => d.digest_no);

      const diffs = (
        await sql<DiffRow>`WITH cur AS MATERIALIZED (
            SELECT e.event_id, e.tenant_id, ${sql.raw(rowHashSql('e'))} AS h
            FROM audit_events_all e WHERE e.occurred_at >= ${lo} AND e.occurred_at < ${hi}
          ), leaf AS (
            SELECT event_id, occurred_at, category, tenant_id, row_hash FROM audit_row_hashes
            WHERE interval_start >= ${lo} AND interval_start <= ${hiStart}
          ), diff AS (
            SELECT coalesce(c.event_id, l.event_id)::text AS event_id,
              CASE WHEN l.event_id IS NULL THEN 'inserted'
                   WHEN c.event_id IS NULL THEN
                     CASE WHEN EXISTS (SELECT 1 FROM audit_retention_log r WHERE l.occurred_at >= r.range_start
                            AND l.occurred_at < r.range_end AND l.category::text = ANY (r.categories)) THEN 'pruned' ELSE 'deleted' END
                   ELSE 'modified' END AS kind,
              (${tenant}::text IS NULL OR l.tenant_id = ${tenant} OR c.tenant_id = ${tenant}) AS visible
            FROM cur c FULL JOIN leaf l ON c.event_id = l.event_id
            WHERE c.h IS DISTINCT FROM l.row_hash
          )
          SELECT kind, count(*)::bigint AS total,
            (array_agg(event_id ORDER BY event_id) FILTER (WHERE visible))[1:${maxIds}] AS ids
          FROM diff GROUP BY kind`.execute(trx)
      ).rows;
      for (const d of diffs) findings.set(d.kind, { ids: d.ids ?? [], count: Number(d.total) });
      rows_checked = Number(
        (await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM audit_row_hashes WHERE interval_start >= ${lo} AND interval_start <= ${hiStart}`.execute(trx)).rows[0]?.n ?? 0,
      );

      pruned_by_retention = (
        await sql<{ digest_no: number; interval_start: Date; interval_end: Date; rows_pruned: number }>`SELECT d.digest_no, d.interval_start, d.interval_end,
            (SELECT count(*) FROM audit_row_hashes l WHERE l.interval_start = d.interval_start
               AND EXISTS (SELECT 1 FROM audit_retention_log r WHERE l.occurred_at >= r.range_start AND l.occurred_at < r.range_end
                 AND l.category::text = ANY (r.categories))
               AND NOT EXISTS (SELECT 1 FROM audit_events_all e WHERE e.event_id = l.event_id))::bigint AS rows_pruned
          FROM audit_digests d
          WHERE d.digest_no BETWEEN ${digests[0]!.digest_no} AND ${digests[digests.length - 1]!.digest_no}
            AND EXISTS (SELECT 1 FROM audit_retention_log r WHERE r.range_start < d.interval_end AND r.range_end > d.interval_start)
          ORDER BY d.digest_no`.execute(trx)
      ).rows
        .filter((r) => Number(r.rows_pruned) > 0)
        .map((r) => ({ digest_no: r.digest_no, interval_start: r.interval_start.toISOString(), interval_end: r.interval_end.toISOString(), rows_pruned: Number(r.rows_pruned) }));
    }

    // Rows older than the first digest were not there when the chain began: inserted afterwards.
    let before: RowFinding = EMPTY;
    const beforeEnd = genesis ? new Date(Math.min(genesis.getTime(), to.getTime())) : undefined;
    if (beforeEnd && beforeEnd > from) {
      const r = (
        await sql<{ total: number; ids: string[] | null }>`SELECT count(*)::bigint AS total,
            (array_agg(event_id::text ORDER BY event_id) FILTER (WHERE ${tenant}::text IS NULL OR tenant_id = ${tenant}))[1:${maxIds}] AS ids
          FROM audit_events_all WHERE occurred_at >= ${from} AND occurred_at < ${beforeEnd}`.execute(trx)
      ).rows[0];
      before = { ids: r?.ids ?? [], count: Number(r?.total ?? 0) };
    }
    const unsealedFrom = head ? new Date(Math.max(head.interval_end.getTime(), from.getTime())) : from;
    const unsealed_rows =
      unsealedFrom < to
        ? Number((await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM audit_events_all WHERE occurred_at >= ${unsealedFrom} AND occurred_at < ${to}`.execute(trx)).rows[0]?.n ?? 0)
        : 0;

    const inserted = findings.get('inserted') ?? EMPTY;
    const rows_inserted_after_sealing = { ids: [...before.ids, ...inserted.ids].slice(0, maxIds), count: before.count + inserted.count };
    const rows_modified = findings.get('modified') ?? EMPTY;
    const rows_deleted = findings.get('deleted') ?? EMPTY;
    let anchor: AnchorCheck | null = null;
    if (options.anchor) {
      const { digestNo, digestHash } = options.anchor;
      const stored = (await sql<{ digest_hash: string }>`SELECT digest_hash FROM audit_digests WHERE digest_no = ${digestNo}`.execute(trx)).rows[0];
      anchor = { digest_no: digestNo, digest_hash: digestHash, found: stored !== undefined, matches: stored?.digest_hash === digestHash };
    }
    const ok =
      (anchor === null || anchor.matches) &&
      rows_modified.count === 0 &&
      rows_deleted.count === 0 &&
      rows_inserted_after_sealing.count === 0 &&
      broken_chain_links.length === 0 &&
      bad_signatures.length === 0 &&
      altered_row_hashes.length === 0;
    return {
      ok,
      from: from.toISOString(),
      to: to.toISOString(),
      digests_checked: digests.length,
      first_digest_no: digests[0]?.digest_no ?? null,
      last_digest_no: digests[digests.length - 1]?.digest_no ?? null,
      rows_checked,
      rows_modified,
      rows_deleted,
      rows_inserted_after_sealing,
      broken_chain_links,
      bad_signatures,
      altered_row_hashes,
      pruned_by_retention,
      unsealed_rows,
      chain_head: head ? { digest_no: head.digest_no, digest_hash: head.digest_hash, interval_end: head.interval_end.toISOString() } : null,
      anchor,
    };
  });
}
