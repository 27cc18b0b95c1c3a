import express, { type Express, type Request } from 'express';
import { createDb, migrateToLatest, type Kysely } from '@cloud-stack/db';
import type { AuditEventInput } from '@cloud-stack/contracts';
import { correlationId, createLogger, errorHandler, HttpProblem } from '@cloud-stack/service-kit';
import {
  createRouteStore,
  gatewayRoutingMigrations,
  openRouteTable,
  type GatewayRoutingDatabase,
  type RouteStore,
  type RouteTable,
} from '@cloud-stack/gateway-routing';
import { createAdminRouter, type RouteDiscovery, type Subject } from '../src/index';

export const logger = createLogger('gateway-admin-test', 'silent');

// Fake credentials: the bearer token names the caller; each caller holds the listed permissions.
const PERMISSIONS: Record<string, readonly string[]> = {
  admin: ['route:read', 'route:admin'],
  reader: ['route:read'],
  nobody: [],
};

export const subjectOf = (name: string): Subject => ({
  authenticated: true,
  sub: `user-${name}`,
  tenant_id: 'tenant-platform',
  client_id: 'console',
  roles: [],
  is_governor: false,
  trial_mode: false,
  agent_id: null,
});

async function authenticate(req: Request): Promise<Subject> {
  const name = /^Bearer ([\w-]+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (name === 'identity-down') throw new HttpProblem(503, 'identity unavailable');
  if (!name || !(name in PERMISSIONS)) throw new HttpProblem(401, 'a valid bearer token is required', { headers: { 'WWW-Authenticate': 'Bearer' } });
  return subjectOf(name);
}

async function authorize(subject: Subject, permission: string): Promise<boolean> {
  return PERMISSIONS[subject.sub!.replace(/^user-/, '')]!.includes(permission);
}

export interface Harness {
  readonly app: Express;
  readonly db: Kysely<GatewayRoutingDatabase>;
  readonly store: RouteStore;
  readonly table: RouteTable;
  readonly audit: AuditEventInput[];
  close(): Promise<void>;
}

/** The admin router on a real database, mounted as the app will mount it. */
export async function startHarness(databaseUrl: string, discovery?: (store: RouteStore) => RouteDiscovery): Promise<Harness> {
  const db = createDb<GatewayRoutingDatabase>(databaseUrl, { max: 4 });
  await migrateToLatest(db as unknown as Kysely<unknown>, gatewayRoutingMigrations);
  const store = createRouteStore(db);
  const table = await openRouteTable({ db, databaseUrl, logger, pollMs: 3_600_000 });
  const audit: AuditEventInput[] = [];
  const app = express();
  app.use(correlationId());
  app.use(
    '/__gateway/admin',
    createAdminRouter({ store, table, authenticate, authorize, emitAudit: (e) => void audit.push(e), logger, discovery: discovery?.(store) }),
  );
  app.use(errorHandler(logger));
  return {
    app,
    db,
    store,
    table,
    audit,
    async close() {
      await table.close();
      await db.destroy();
    },
  };
}
