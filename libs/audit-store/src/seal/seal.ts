import { sql, type Kysely } from '@cloud-stack/db';
import { digestHash, rowHashSql, type DigestBody } from './canonical';
import type { DigestSigner } from './signing-key';

/** pg_advisory_xact_lock key held while the chain head moves (ASCII "audseal"). */
export const SEAL_LOCK_KEY = 0x61756473_65616c;

export interface SealOptions {
  /** Length of a sealed interval; intervals are aligned to multiples of it since the epoch. */
  readonly intervalSeconds: number;
  /** An interval is sealed only once its end is this far in the past (late events). */
  readonly graceSeconds: number;
  /** Upper bound of intervals sealed by one call (each in its own short transaction). */
  readonly maxIntervals?: number;
  readonly now?: () => Date;
}

export interface SealedDigest {
  readonly digest_no: number;
  readonly interval_start: string;
  readonly interval_end: string;
  readonly row_count: number;
  readonly digest_hash: string;
}

interface HeadRow {
  digest_no: number;
  interval_end: Date;
  digest_hash: string;
}

/**
 * Seals every closed interval after the chain head: hashes each event row of the interval
 * into `audit_row_hashes`, hashes those leaf hashes in (occurred_at, event_id) order into the
 * interval's `rows_hash`, links to the previous digest and signs. One transaction per interval
 * under a transaction-level advisory lock, so concurrent sealers (one per writer replica) queue
 * behind each other and each continues from the head the previous one left: no double seal,
 * no fork (unique digest_no, interval_start and prev_digest_hash back that up).
 */
export async function sealClosedIntervals(db: Kysely<unknown>, signer: DigestSigner, options: SealOptions): Promise<SealedDigest[]> {
  const sealed: SealedDigest[] = [];
  const max = options.maxIntervals ?? 1000;
  while (sealed.length < max) {
    const next = await db.transaction().execute((trx) => sealNext(trx, signer, options));
    if (!next) break;
    sealed.push(next);
  }
  return sealed;
}

async function sealNext(trx: Kysely<unknown>, signer: DigestSigner, options: SealOptions): Promise<SealedDigest | undefined> {
  await sql`SELECT pg_advisory_xact_lock(${SEAL_LOCK_KEY}::bigint)`.execute(trx);
  const step = options.intervalSeconds * 1000;
  const now = (options.now?.() ?? new Date()).getTime();
  const closed = Math.floor((now - options.graceSeconds * 1000) / step) * step;
  const floorTo = (t: number) => Math.floor(t / step) * step;

  const head = (await sql<HeadRow>`SELECT digest_no, interval_end, digest_hash FROM audit_digests ORDER BY digest_no DESC LIMIT 1`.execute(trx)).rows[0];
  let start: number;
  if (head) start = head.interval_end.getTime();
  else {
    const first = (await sql<{ t: Date | null }>`SELECT min(occurred_at) AS t FROM audit_events_all`.execute(trx)).rows[0]?.t;
    if (!first) return undefined;
    start = floorTo(first.getTime());
  }
  if (start + step > closed) return undefined;

  // A stretch without events becomes one empty digest instead of one per interval.
  let end = start + step;
  const nextEvent = (await sql<{ t: Date | null }>`SELECT min(occurred_at) AS t FROM audit_events_all WHERE occurred_at >= ${new Date(start)}`.execute(trx)).rows[0]?.t;
  if (!nextEvent) end = closed;
  else if (nextEvent.getTime() >= end) end = Math.max(end, Math.min(floorTo(nextEvent.getTime()), closed));

  const from = new Date(start);
  const to = new Date(end);
  await sql`INSERT INTO audit_row_hashes (interval_start, occurred_at, event_id, category, tenant_id, row_hash)
    SELECT ${from}, e.occurred_at, e.event_id, e.category, e.tenant_id, ${sql.raw(rowHashSql('e'))}
    FROM audit_events_all e WHERE e.occurred_at >= ${from} AND e.occurred_at < ${to}`.execute(trx);
  const leaves = (
    await sql<{ n: number; h: string }>`SELECT count(*)::bigint AS n,
      encode(sha256(coalesce(string_agg(row_hash, ''::bytea ORDER BY occurred_at, event_id), ''::bytea)), 'hex') AS h
      FROM audit_row_hashes WHERE interval_start = ${from}`.execute(trx)
  ).rows[0]!;

  const body: DigestBody = {
    digest_no: (head?.digest_no ?? 0) + 1,
    interval_start: from.toISOString(),
    interval_end: to.toISOString(),
    row_count: Number(leaves.n),
    rows_hash: leaves.h,
    prev_digest_hash: head?.digest_hash ?? null,
    key_id: signer.keyId,
    sealed_at: new Date(now).toISOString(),
  };
  const hash = digestHash(body);
  const signature = signer.sign(Buffer.from(hash, 'hex'));
  await sql`INSERT INTO audit_digests (digest_no, interval_start, interval_end, row_count, rows_hash, prev_digest_hash, digest_hash, signature, key_id, sealed_at)
    VALUES (${body.digest_no}, ${from}, ${to}, ${body.row_count}, ${body.rows_hash}, ${body.prev_digest_hash}, ${hash}, ${signature}, ${body.key_id}, ${new Date(now)})`.execute(trx);
  return { digest_no: body.digest_no, interval_start: body.interval_start, interval_end: body.interval_end, row_count: body.row_count, digest_hash: hash };
}
