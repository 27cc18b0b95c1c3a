// The writer side of `npm run bench:audit`, in its own process (the producer runs in the parent).
import { createDb } from '@cloud-stack/db';
import { createLogger } from '@cloud-stack/service-kit';
import { createAuditWriter } from '@cloud-stack/audit-store';

const env = process.env;
const db = createDb<unknown>(env.DATABASE_URL!, { max: 4 });
const writer = createAuditWriter({
  db,
  connection: { url: env.REDIS_URL! },
  prefix: env.QUEUE_PREFIX!,
  batchSize: Number(env.AUDIT_BATCH_SIZE ?? 1000),
  flushMs: Number(env.AUDIT_FLUSH_MS ?? 20),
  concurrency: Number(env.AUDIT_CONCURRENCY ?? 64),
  parallelFlushes: Number(env.AUDIT_PARALLEL_FLUSHES ?? 2),
  logger: createLogger('bench-audit-writer', 'warn'),
});
await writer.worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void writer
    .close()
    .then(() => db.destroy())
    .then(() => {
      process.stdout.write(`${JSON.stringify(writer.stats())}\n`);
      process.exit(0);
    });
});
