import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from '@cloud-stack/db';
import { createDb } from '@cloud-stack/db';
import { useTestDatabase } from '@cloud-stack/test-kit';
import type { AuditEvent } from '@cloud-stack/contracts';
import { loadDigestSigner, rowHashSql, sealClosedIntervals, verifyAuditLog, type DigestSigner } from '../../src/index';
import { ensureMonthPartition, HOUR, insertEvents, makeEvent, openMigratedDb } from './helpers';

const testDb = useTestDatabase('audit_seal');
// No grace: the newest hour of these tests has just closed, and must be sealed even in the first minute after it.
const seal = { intervalSeconds: 3600, graceSeconds: 0 };
let db: Kysely<unknown>;
let signer: DigestSigner;
const base = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
const window = { from: new Date(base - HOUR), to: new Date(Date.now()) };

async function reset(): Promise<void> {
  await sql`TRUNCATE audit_events, audit_event_ids, audit_digests, audit_row_hashes, audit_retention_log`.execute(db);
}

/** Three sealed hours with four events each, starting at `base`. */
async function sealedHours() {
  const events = [0, 1, 2].flatMap((h) => [5, 20, 35, 50].map((m, i) => makeEvent({ occurred_at: new Date(base + h * HOUR + m * 60_000).toISOString(), tenant_id: i % 2 ? 'tenant-a' : 'tenant-b' })));
  await insertEvents(db, events);
  const digests = await sealClosedIntervals(db, signer, seal);
  return { events, digests };
}

beforeAll(async () => {
  db = await openMigratedDb(testDb.url);
  signer = await loadDigestSigner(db);
});
afterAll(async () => {
  await db?.destroy();
});
beforeEach(reset);

describe('sealing and verifying the audit log', () => {
  it('seals closed hours into a signed chain that verifies clean', async () => {
    const { digests } = await sealedHours();
    expect(digests.map((d) => d.digest_no)).toEqual(digests.map((_, i) => i + 1));
    expect(digests.slice(0, 3).map((d) => d.row_count)).toEqual([4, 4, 4]);
    expect(digests[0]!.interval_start).toBe(new Date(base).toISOString());
    // the empty stretch up to the last closed hour becomes one digest, not one per hour
    expect(digests).toHaveLength(4);
    expect(await sealClosedIntervals(db, signer, seal)).toEqual([]);

    const report = await verifyAuditLog(db, window);
    expect(report).toMatchObject({ ok: true, digests_checked: 4, rows_checked: 12, broken_chain_links: [], bad_signatures: [], altered_row_hashes: [] });
    expect(report.rows_modified.count + report.rows_deleted.count + report.rows_inserted_after_sealing.count).toBe(0);
  });

  it('catches a chain cut short at its end against an anchor recorded earlier', async () => {
    const { events } = await sealedHours();
    const head = (await verifyAuditLog(db, window)).chain_head!;
    const anchor = { digestNo: head.digest_no - 1, digestHash: (await sql<{ h: string }>`SELECT digest_hash AS h FROM audit_digests WHERE digest_no = ${head.digest_no - 1}`.execute(db)).rows[0]!.h };
    expect((await verifyAuditLog(db, { ...window, anchor })).anchor).toEqual({ digest_no: anchor.digestNo, digest_hash: anchor.digestHash, found: true, matches: true });

    // Someone with database access deletes the newest two digests, their leaves and their rows.
    const cut = head.digest_no - 1;
    const gone = await sql<{ start: Date }>`DELETE FROM audit_digests WHERE digest_no >= ${cut} RETURNING interval_start AS start`.execute(db);
    const since = new Date(Math.min(...gone.rows.map((r) => new Date(r.start).getTime())));
    await sql`DELETE FROM audit_row_hashes WHERE interval_start >= ${since}`.execute(db);
    await sql`DELETE FROM audit_events WHERE occurred_at >= ${since}`.execute(db);
    expect(events.some((e) => new Date(e.occurred_at) >= since)).toBe(true);

    // From inside the database the shorter chain looks whole (the rows look merely unsealed)…
    const blind = await verifyAuditLog(db, window);
    expect(blind).toMatchObject({ ok: true, rows_deleted: { count: 0 } });
    // …but not against the anchor.
    const anchored = await verifyAuditLog(db, { ...window, anchor });
    expect(anchored.ok).toBe(false);
    expect(anchored.anchor).toMatchObject({ found: false, matches: false });

    const forged = await verifyAuditLog(db, { ...window, anchor: { digestNo: 1, digestHash: 'f'.repeat(64) } });
    expect(forged).toMatchObject({ ok: false, anchor: { found: true, matches: false } });
  });

  it('names a row UPDATEd after sealing as modified', async () => {
    const { events } = await sealedHours();
    const target = events[5]!;
    await sql`UPDATE audit_events SET status = 204 WHERE event_id = ${target.event_id}::uuid`.execute(db);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect(report.rows_modified).toEqual({ ids: [target.event_id], count: 1 });
    expect(report.rows_deleted.count).toBe(0);
  });

  it('covers details in the row hash: changing, adding or removing them names the row', async () => {
    const events = [5, 20, 35, 50].map((m, i) =>
      makeEvent({ occurred_at: new Date(base + m * 60_000).toISOString(), details: i < 3 ? { decision_log: { decision_id: `d-${i}`, result: { allow: true } } } : null }));
    await insertEvents(db, events);
    await sealClosedIntervals(db, signer, seal);
    expect(await verifyAuditLog(db, window)).toMatchObject({ ok: true, rows_checked: 4 });

    const [changed, removed, kept, added] = events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    await sql`UPDATE audit_events SET details = jsonb_set(details, '{decision_log,result,allow}', 'false') WHERE event_id = ${changed.event_id}::uuid`.execute(db);
    await sql`UPDATE audit_events SET details = NULL WHERE event_id = ${removed.event_id}::uuid`.execute(db);
    await sql`UPDATE audit_events SET details = '{}' WHERE event_id = ${added.event_id}::uuid`.execute(db);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect([...report.rows_modified.ids].sort()).toEqual([changed.event_id, removed.event_id, added.event_id].sort());
    expect(report.rows_modified.ids).not.toContain(kept.event_id);
  });

  it('hashes a row without details exactly as before the details column existed', async () => {
    // Row hash of this event under the canonical form that predates migration 2026_11_22_200_audit_details
    // (computed with that code): rows sealed before the migration keep verifying.
    const SEALED_BEFORE_DETAILS = '8ae47a7042e1d2e7660640ee9daf735dceaf5325a4e07f90e58d66035d6ae5d7';
    const occurred = '2026-11-22T10:00:00.123456Z';
    await ensureMonthPartition(db, new Date(occurred));
    const golden: AuditEvent = {
      event_id: '019aab3c-7d10-7000-8000-000000000001', category: 'admin', occurred_at: occurred, correlation_id: 'golden', causation_id: null,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', tenant_id: 'tenant-a', user_id: 'u1', client_id: 'c1', agent_id: null, route_id: 'cp.orders',
      method: 'POST', host: 'api.example.test', path: '/orders', status: 201, duration_ms: 12.5,
      decision: { allow: true, reasons: ['role ok'], policy: 'gateway/authz', decision_id: 'd-1' }, sandbox_routed: false, trial_mode: true,
      upstream: 'http://cp.internal', ip: '10.0.0.1', user_agent: 'vitest', error_code: null,
    };
    await insertEvents(db, [golden]);
    const hash = async () => (await sql<{ h: string }>`SELECT encode(${sql.raw(rowHashSql('e'))}, 'hex') AS h FROM audit_events_all e WHERE e.event_id = ${golden.event_id}::uuid`.execute(db)).rows[0]!.h;
    expect(await hash()).toBe(SEALED_BEFORE_DETAILS);
    await sql`UPDATE audit_events SET details = '{"k": 1}' WHERE event_id = ${golden.event_id}::uuid`.execute(db);
    expect(await hash()).not.toBe(SEALED_BEFORE_DETAILS);
  });

  it('names a row DELETEd after sealing as deleted', async () => {
    const { events } = await sealedHours();
    const target = events[2]!;
    await sql`DELETE FROM audit_events WHERE event_id = ${target.event_id}::uuid`.execute(db);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect(report.rows_deleted).toEqual({ ids: [target.event_id], count: 1 });
    expect(report.rows_modified.count).toBe(0);
  });

  it('names a row INSERTed into a sealed interval as inserted after sealing', async () => {
    await sealedHours();
    const late = makeEvent({ occurred_at: new Date(base + HOUR + 30_000).toISOString() });
    await insertEvents(db, [late]);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect(report.rows_inserted_after_sealing).toEqual({ ids: [late.event_id], count: 1 });
  });

  it('names a backdated row older than the whole chain as inserted after sealing', async () => {
    await sealedHours();
    const forged = makeEvent({ occurred_at: new Date(base - 30 * 60_000).toISOString() });
    await insertEvents(db, [forged]);
    const report = await verifyAuditLog(db, window);
    expect(report.rows_inserted_after_sealing.ids).toEqual([forged.event_id]);
  });

  it('lists only the tenant auditor’s own rows, with global counts', async () => {
    const { events } = await sealedHours();
    const a = events.find((e) => e.tenant_id === 'tenant-a')!;
    const b = events.find((e) => e.tenant_id === 'tenant-b')!;
    await sql`UPDATE audit_events SET path = '/forged' WHERE event_id IN (${a.event_id}::uuid, ${b.event_id}::uuid)`.execute(db);
    const report = await verifyAuditLog(db, { ...window, tenantId: 'tenant-a' });
    expect(report.rows_modified).toEqual({ ids: [a.event_id], count: 2 });
  });

  it('names a digest whose content was altered as badly signed', async () => {
    await sealedHours();
    await sql`UPDATE audit_digests SET row_count = row_count - 1 WHERE digest_no = 2`.execute(db);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect(report.bad_signatures).toEqual([2]);
    expect(report.altered_row_hashes).toEqual([2]);
    expect(report.broken_chain_links).toEqual([]);
  });

  it('names the broken link when a digest is re-hashed or removed', async () => {
    await sealedHours();
    await sql`UPDATE audit_digests SET digest_hash = repeat('0', 64) WHERE digest_no = 2`.execute(db);
    let report = await verifyAuditLog(db, window);
    expect(report.bad_signatures).toEqual([2]);
    expect(report.broken_chain_links).toEqual([3]);

    await sql`DELETE FROM audit_digests WHERE digest_no = 2`.execute(db);
    report = await verifyAuditLog(db, window);
    expect(report.broken_chain_links).toEqual([3]);
  });

  it('names altered per-row hashes when someone rewrites a row and its hash together', async () => {
    const { events } = await sealedHours();
    const target = events[0]!;
    await sql`UPDATE audit_events SET status = 418 WHERE event_id = ${target.event_id}::uuid`.execute(db);
    await sql`UPDATE audit_row_hashes SET row_hash = sha256('x') WHERE event_id = ${target.event_id}::uuid`.execute(db);
    const report = await verifyAuditLog(db, window);
    expect(report.ok).toBe(false);
    expect(report.altered_row_hashes).toEqual([1]);
  });

  it('keeps one chain when two sealers run at once', async () => {
    const events = Array.from({ length: 6 }, (_, h) => makeEvent({ occurred_at: new Date(base + h * HOUR + 60_000).toISOString() }));
    await insertEvents(db, events);
    const other = createDb<unknown>(testDb.url, { max: 2 });
    try {
      const [a, b] = await Promise.all([sealClosedIntervals(db, signer, seal), sealClosedIntervals(other, signer, seal)]);
      const all = [...a, ...b].map((d) => d.digest_no).sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      const starts = new Set([...a, ...b].map((d) => d.interval_start));
      expect(starts.size).toBe(all.length);
    } finally {
      await other.destroy();
    }
    const report = await verifyAuditLog(db, window);
    expect(report).toMatchObject({ ok: true, rows_checked: 6, broken_chain_links: [] });
  });

  it('reports rows newer than the chain head as unsealed, not as findings', async () => {
    await sealedHours();
    await insertEvents(db, [makeEvent({ occurred_at: new Date().toISOString() })]);
    const report = await verifyAuditLog(db, { from: window.from, to: new Date(Date.now() + 1000) });
    expect(report).toMatchObject({ ok: true, unsealed_rows: 1 });
  });
});
