import { uuidv7, type AuditEvent } from '@cloud-stack/contracts';
import { createDb, migrateToLatest, type Kysely } from '@cloud-stack/db';
import { auditIntegrityMigrations, auditSchemaMigrations, ensurePartitionsBetween, insertAuditEvents } from '../../src/index';

// test-kit's fixtures read these from its global set-up; the declaration lives in a file outside this
// project's program, so repeat it here (identical declarations merge).
declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

export const HOUR = 3_600_000;

/** A fresh schema: the write path's migrations, then ours. */
export async function openMigratedDb(url: string, max = 4): Promise<Kysely<unknown>> {
  const db = createDb<unknown>(url, { max });
  await migrateToLatest(db, { ...auditSchemaMigrations, ...auditIntegrityMigrations });
  return db;
}

let n = 0;
export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  n++;
  const occurred = overrides.occurred_at ? Date.parse(overrides.occurred_at) : Date.now();
  return {
    event_id: uuidv7(occurred),
    category: 'request',
    occurred_at: new Date(occurred).toISOString(),
    correlation_id: `corr-${n}`,
    causation_id: null,
    trace_id: null,
    tenant_id: 'tenant-a',
    user_id: 'user-1',
    client_id: 'client-1',
    agent_id: null,
    route_id: 'cp.orders',
    method: 'GET',
    host: 'api.example.test',
    path: `/orders/${n}`,
    status: 200,
    duration_ms: 12.5,
    decision: { allow: true, reasons: [], policy: 'gateway/authz', decision_id: `d-${n}` },
    sandbox_routed: false,
    trial_mode: false,
    upstream: 'http://cp.internal',
    ip: '10.0.0.1',
    user_agent: 'vitest',
    error_code: null,
    ...overrides,
  };
}

/** Writes events through the write path's insert (the statement the writer runs). */
export async function insertEvents(db: Kysely<unknown>, events: readonly AuditEvent[]): Promise<void> {
  const { written } = await insertAuditEvents(db, events);
  if (written !== events.length) throw new Error(`wrote ${written} of ${events.length} events`);
}

/** Makes sure a monthly partition covers `at` (tests write events months in the past). */
export async function ensureMonthPartition(db: Kysely<unknown>, at: Date): Promise<void> {
  await ensurePartitionsBetween(db, at, at);
}
