import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from '@cloud-stack/db';
import { createLogger } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { AUDIT_MAINTENANCE_QUEUE, DEFAULT_RETENTION, loadDigestSigner, startAuditMaintenance, verifyAuditLog } from '../../src/index';
import { HOUR, insertEvents, makeEvent, openMigratedDb } from './helpers';

const testDb = useTestDatabase('audit_maint');
const redis = useRedisPrefix('audit_maint');
let db: Kysely<unknown>;

beforeAll(async () => {
  db = await openMigratedDb(testDb.url);
});
afterAll(async () => {
  await db?.destroy();
});

async function digestCount(): Promise<number> {
  return Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_digests`.execute(db)).rows[0]!.n);
}

describe('scheduled sealing', () => {
  it('runs the seal job from a BullMQ job scheduler on every replica without forking the chain', async () => {
    const base = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    await insertEvents(db, [0, 1, 2].map((h) => makeEvent({ occurred_at: new Date(base + h * HOUR + 60_000).toISOString() })));
    const signer = await loadDigestSigner(db);
    const options = {
      db,
      connection: { url: redis.url },
      prefix: redis.prefix,
      signer,
      logger: createLogger('audit-maint-test', 'silent'),
      // No grace: the newest hour has just closed, and must be sealed even in the first minute after it.
      seal: { intervalSeconds: 3600, graceSeconds: 0, everyMs: 100 },
      retention: { policy: DEFAULT_RETENTION, everyMs: 100 },
      runAtStart: false,
    };
    const replicas = await Promise.all([startAuditMaintenance(options), startAuditMaintenance(options)]);
    try {
      const queue = new Queue(AUDIT_MAINTENANCE_QUEUE, { connection: { url: redis.url }, prefix: redis.prefix });
      const schedulers = await queue.getJobSchedulers();
      await queue.close();
      expect(schedulers.map((s) => s.key).sort()).toEqual(['audit-retention', 'audit-seal']);
      for (let i = 0; i < 200 && (await digestCount()) < 4; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
    expect(await digestCount()).toBe(4);
    const report = await verifyAuditLog(db, { from: new Date(base), to: new Date() });
    expect(report).toMatchObject({ ok: true, rows_checked: 3, digests_checked: 4 });
  });
});
