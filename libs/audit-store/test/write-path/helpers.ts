import { uuidv7, type AuditEvent } from '@cloud-stack/contracts';
import { createDb, migrateToLatest, sql, type Kysely } from '@cloud-stack/db';
import { createLogger } from '@cloud-stack/service-kit';
import { auditSchemaMigrations } from '../../src/index';

declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

export const quietLogger = () => createLogger('audit-writer-test', 'silent');

export async function openWriteDb(url: string, max = 4): Promise<Kysely<unknown>> {
  const db = createDb<unknown>(url, { max });
  await migrateToLatest(db, auditSchemaMigrations);
  return db;
}

let n = 0;
export function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  n++;
  return {
    event_id: uuidv7(),
    category: 'request',
    occurred_at: new Date().toISOString(),
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
    duration_ms: 3.5,
    decision: { allow: true, reasons: ['role ok'], policy: 'gateway/authz', decision_id: `d-${n}` },
    sandbox_routed: false,
    trial_mode: false,
    upstream: 'http://cp.internal',
    ip: '10.0.0.1',
    user_agent: 'vitest',
    error_code: null,
    ...overrides,
  };
}

export async function countRows(db: Kysely<unknown>, table = 'audit_events'): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
  return rows[0]!.n;
}

/** Polls `probe` until it returns true (bounded). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
