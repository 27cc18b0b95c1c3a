/**
 * `npm run tasks`: every BullMQ job scheduler of the services' queues, read from Redis directly
 * (no service needs to run): name, owner, schedule, last run, outcome, next run. A run that failed
 * for good, or is waiting to be retried, says so with BullMQ's failure reason; exit code 1 when the
 * last run of any task failed.
 *
 *   npm run tasks [-- --json]     (REDIS_URL, REDIS_PREFIX, GATEWAY_REDIS_PREFIX, AUDIT_QUEUE_PREFIX as the services read them)
 */
import { pathToFileURL } from 'node:url';
import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { AUDIT_QUEUE_PREFIX_DEFAULT } from '@cloud-stack/contracts';
import { AUDIT_MAINTENANCE_QUEUE } from '@cloud-stack/audit-store';
import { discoveryQueuePrefix, DISCOVERY_QUEUE } from '@cloud-stack/gateway-admin';
import { IDENTITY_MAINTENANCE_QUEUE, identityQueuePrefix } from '@cloud-stack/identity-core';
import { bullConnection } from '@cloud-stack/service-kit';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A queue holding job schedulers, with the service that owns it. */
export interface TaskQueue {
  readonly owner: string;
  readonly queue: string;
  /** BullMQ key prefix, as the owner computes it from its configuration. */
  readonly prefix: string;
}

export interface TaskRow {
  readonly name: string;
  readonly owner: string;
  readonly queue: string;
  readonly schedule: string;
  /** ISO time the last run finished (or null: it never finished). */
  readonly lastRun: string | null;
  /** `ok …`, `failed after N attempts: …`, `retrying (attempt N of M): …`, `running`, or `never run`. */
  readonly outcome: string;
  readonly failed: boolean;
  readonly nextRun: string | null;
}

/** The services' scheduler queues, with their prefixes derived from the same variables (and defaults) the services read. */
export function taskQueues(env: Record<string, string | undefined> = process.env): TaskQueue[] {
  const redisUrl = env.REDIS_URL ?? DEFAULT_REDIS_URL;
  return [
    { owner: 'identity', queue: IDENTITY_MAINTENANCE_QUEUE, prefix: identityQueuePrefix(redisUrl, env.REDIS_PREFIX ?? '') },
    { owner: 'gateway', queue: DISCOVERY_QUEUE, prefix: discoveryQueuePrefix(redisUrl, env.GATEWAY_REDIS_PREFIX ?? 'gw:') },
    { owner: 'audit-writer', queue: AUDIT_MAINTENANCE_QUEUE, prefix: env.AUDIT_QUEUE_PREFIX ?? AUDIT_QUEUE_PREFIX_DEFAULT },
  ];
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function duration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

interface SchedulerJobs {
  readonly active: Job[];
  /** Waiting for their time: the next period's job, or a failed one's retry (it has attemptsMade > 0). */
  readonly delayed: Job[];
  readonly finished: Job[];
}

function outcomeOf(jobs: SchedulerJobs): { lastRun: string | null; outcome: string; failed: boolean } {
  const last = [...jobs.finished].sort((a, b) => b.finishedOn! - a.finishedOn!)[0];
  const retrying = jobs.delayed.find((j) => j.attemptsMade > 0);
  const attempts = (j: Job) => j.opts.attempts ?? 1;
  const base = last
    ? last.failedReason
      ? { outcome: `failed after ${last.attemptsMade} of ${attempts(last)} attempts: ${last.failedReason}`, failed: true }
      : { outcome: `ok ${JSON.stringify(last.returnvalue ?? null)}`, failed: false }
    : { outcome: 'never run', failed: false };
  const now = retrying
    ? `retrying (attempt ${retrying.attemptsMade + 1} of ${attempts(retrying)}): ${retrying.failedReason}`
    : jobs.active.length
      ? 'running'
      : undefined;
  return { lastRun: iso(last?.finishedOn), outcome: now ? `${now}; last: ${base.outcome}` : base.outcome, failed: base.failed };
}

/** Reads the schedulers of `queues` and each one's latest jobs (REDIS_URL: a single Redis or `redis+cluster://`). */
export async function listTasks(redisUrl: string, queues: readonly TaskQueue[]): Promise<{ rows: TaskRow[]; empty: TaskQueue[] }> {
  const rows: TaskRow[] = [];
  const empty: TaskQueue[] = [];
  const redis = bullConnection(redisUrl);
  // A single server: fail at once rather than wait for a Redis that is not there.
  const connection = 'url' in redis.connection ? { ...redis.connection, maxRetriesPerRequest: 1 } : redis.connection;
  try {
    for (const q of queues) await listQueue(q, connection, rows, empty);
  } finally {
    await redis.close();
  }
  return { rows, empty };
}

async function listQueue(q: TaskQueue, connection: ConnectionOptions, rows: TaskRow[], empty: TaskQueue[]): Promise<void> {
  const queue = new Queue(q.queue, { connection, prefix: q.prefix });
  try {
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    if (schedulers.length === 0) empty.push(q);
    // Schedulers keep their last 50–100 jobs: few enough to read whole.
    const read = async (...types: Array<'active' | 'delayed' | 'completed' | 'failed'>) => (schedulers.length ? queue.getJobs(types, 0, 500) : []);
    // Read in the order a job moves (active → delayed for a retry → finished), then let the later
    // state win: a job that finished between two reads would otherwise show as running too.
    const [active, delayed, finished] = [await read('active'), await read('delayed'), await read('completed', 'failed')];
    const done = new Set(finished.map((j) => j.id));
    const pending = (jobs: Job[]) => jobs.filter((j) => !done.has(j.id));
    for (const s of schedulers) {
      const schedule = s.every ? `every ${duration(s.every)}` : `cron ${s.pattern ?? '?'}${s.tz ? ` ${s.tz}` : ''}`;
      const own = (jobs: Job[]) => jobs.filter((j) => j.repeatJobKey === s.key);
      const outcome = outcomeOf({ active: own(pending(active)), delayed: own(pending(delayed)), finished: own(finished) });
      rows.push({ name: s.key, owner: q.owner, queue: `${q.prefix}:${q.queue}`, schedule, ...outcome, nextRun: iso(s.next) });
    }
  } finally {
    await queue.close();
  }
}

export function formatTasks(rows: readonly TaskRow[], empty: readonly TaskQueue[]): string {
  const header = ['task', 'owner', 'schedule', 'last run', 'outcome', 'next run'];
  const cells = rows.map((r) => [r.name, r.owner, r.schedule, r.lastRun ?? '-', r.outcome, r.nextRun ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  const out = [line(header), ...cells.map(line)];
  for (const q of empty) out.push(`(no schedulers in ${q.prefix}:${q.queue}: ${q.owner} has not run against this Redis with this prefix)`);
  return out.join('\n');
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const { rows, empty } = await listTasks(redisUrl, taskQueues());
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(rows, null, 2)}\n` : `${formatTasks(rows, empty)}\n`);
  if (rows.some((r) => r.failed)) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`tasks: ${(err as Error).message}\n`);
    process.exit(2);
  });
}
