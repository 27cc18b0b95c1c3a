import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { Kysely } from '@cloud-stack/db';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { countRows, event, eventually, openWriteDb } from './helpers';

const testDb = useTestDatabase('audit_crash');
const redis = useRedisPrefix('audit-crash');
const fixture = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));
let db: Kysely<unknown>;
const children: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  // node itself runs the script with tsx as a loader: the tsx CLI would put a second process in
  // between, and SIGKILL must hit the process that holds the jobs.
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, DATABASE_URL: testDb.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(async () => out.includes('ready') || child.exitCode !== null, 30_000, 20);
  if (!out.includes('ready')) throw new Error(`worker process exited early (${child.exitCode})`);
  return child;
}

beforeAll(async () => {
  db = await openWriteDb(testDb.url);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.destroy();
});

describe('a writer killed with SIGKILL mid-run', () => {
  // Two worker start-ups (tsx loading on a machine running other test files) and a stalled-job
  // recovery: the waits inside allow up to 30 + 30 + 45 s, so the test's own bound must too.
  it('ends with exactly 10,000 rows for 10,000 events once restarted', { timeout: 120_000 }, async () => {
    const total = 10_000;
    const producer = createAuditProducer({ connection: redis.url, prefix: redis.prefix, maxBatch: 50, lingerMs: 1 });
    for (let i = 0; i < total; i++) producer.emit(event({ tenant_id: `t-${i % 7}` }));
    await producer.close();
    expect(producer.stats()).toMatchObject({ emitted: total, enqueued: total, dropped: 0 });

    const first = await startWorker();
    await eventually(async () => (await countRows(db)) >= 1500, 30_000, 10);
    first.kill('SIGKILL');
    await once(first, 'exit');
    const atKill = await countRows(db);
    expect(atKill).toBeLessThan(total); // really mid-run

    const second = await startWorker();
    await eventually(async () => (await countRows(db)) >= total, 45_000, 100);
    // give redelivered (stalled) jobs time to be retried as duplicates, then count again
    await new Promise((r) => setTimeout(r, 3000));
    expect(await countRows(db)).toBe(total);
    expect(await countRows(db, 'audit_event_ids')).toBe(total);
    expect(await countRows(db, 'audit_dead_letters')).toBe(0);
    const queue = new Queue('audit', { connection: { url: redis.url }, prefix: redis.prefix });
    const counts = await queue.getJobCounts('failed', 'wait', 'active', 'delayed');
    await queue.close();
    expect(counts).toEqual({ failed: 0, wait: 0, active: 0, delayed: 0 });
    second.kill('SIGTERM');
    await once(second, 'exit');
  });
});
