import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from '@cloud-stack/db';
import { useTestDatabase } from '@cloud-stack/test-kit';
import { DEFAULT_RETENTION, enforceRetention, loadDigestSigner, parseRetentionPolicy, sealClosedIntervals, verifyAuditLog } from '../../src/index';
import { ensureMonthPartition, HOUR, insertEvents, makeEvent, openMigratedDb } from './helpers';

const testDb = useTestDatabase('audit_retention');
let db: Kysely<unknown>;

beforeAll(async () => {
  db = await openMigratedDb(testDb.url);
});
afterAll(async () => {
  await db?.destroy();
});

async function partitions(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_events'::regclass ORDER BY 1`.execute(db);
  return rows.map((r) => r.name);
}

describe('retention', () => {
  it('parses per-category overrides and rejects unknown categories', () => {
    expect(parseRetentionPolicy('request=30, admin=3650')).toEqual({ ...DEFAULT_RETENTION, request: 30, admin: 3650 });
    expect(() => parseRetentionPolicy('requests=30')).toThrow(/bad retention entry "requests=30"/);
  });

  it('drops a month past request retention, keeps its admin rows, and the chain still verifies', async () => {
    const signer = await loadDigestSigner(db);
    const now = Date.now();
    const old = new Date(Math.floor((now - 200 * 24 * HOUR) / HOUR) * HOUR + 10 * 60_000); // ~6.5 months ago
    await ensureMonthPartition(db, old);
    const oldRequest = makeEvent({ occurred_at: old.toISOString() });
    const oldAdmin = makeEvent({ occurred_at: new Date(old.getTime() + 60_000).toISOString(), category: 'admin' });
    const recent = makeEvent({ occurred_at: new Date(now - 3 * HOUR).toISOString() });
    await insertEvents(db, [oldRequest, oldAdmin, recent]);
    await sealClosedIntervals(db, signer, { intervalSeconds: 3600, graceSeconds: 60 });
    const before = await partitions();

    const result = await enforceRetention(db, { policy: DEFAULT_RETENTION });
    expect(result.dropped).toHaveLength(1);
    expect(result.dropped[0]).toMatchObject({ pruned_categories: ['request', 'policy_decision'], rows_pruned: 1, rows_archived: 1 });
    expect(await partitions()).toEqual(before.filter((p) => p !== result.dropped[0]!.partition));

    const { rows } = await sql<{ event_id: string }>`SELECT event_id::text FROM audit_events_all ORDER BY occurred_at`.execute(db);
    expect(rows.map((r) => r.event_id)).toEqual([oldAdmin.event_id, recent.event_id]);
    const ids = await sql<{ event_id: string }>`SELECT event_id::text FROM audit_event_ids ORDER BY occurred_at`.execute(db);
    expect(ids.rows.map((r) => r.event_id)).toEqual([oldAdmin.event_id, recent.event_id]);

    const report = await verifyAuditLog(db, { from: new Date(old.getTime() - HOUR), to: new Date(now) });
    expect(report.ok).toBe(true);
    expect(report.rows_deleted.count).toBe(0);
    expect(report.pruned_by_retention).toHaveLength(1);
    expect(report.pruned_by_retention[0]).toMatchObject({ digest_no: 1, rows_pruned: 1 });
    expect(report.rows_checked).toBe(3);

    // a second run finds nothing more to do; archived admin rows are still inside their 7 years
    expect(await enforceRetention(db, { policy: DEFAULT_RETENTION })).toEqual({ dropped: [], archive_rows_pruned: 0 });

    // tampering with an archived row is still caught
    await sql`UPDATE audit_events_archive SET path = '/forged' WHERE event_id = ${oldAdmin.event_id}::uuid`.execute(db);
    const tampered = await verifyAuditLog(db, { from: new Date(old.getTime() - HOUR), to: new Date(now) });
    expect(tampered.rows_modified.ids).toEqual([oldAdmin.event_id]);
    await sql`UPDATE audit_events_archive SET path = ${oldAdmin.path} WHERE event_id = ${oldAdmin.event_id}::uuid`.execute(db);

    // once the admin row's own retention ends it is deleted from the archive, still reported as pruned
    const later = await enforceRetention(db, { policy: { ...DEFAULT_RETENTION, admin: 30 } });
    expect(later.archive_rows_pruned).toBe(1);
    const after = await verifyAuditLog(db, { from: new Date(old.getTime() - HOUR), to: new Date(now) });
    expect(after).toMatchObject({ ok: true, rows_checked: 3 });
    expect(after.pruned_by_retention[0]).toMatchObject({ digest_no: 1, rows_pruned: 2 });
  });
});
