import { sql, type Kysely } from '@cloud-stack/db';
import type { Selectable, Transaction } from 'kysely';
import { RouteValidationError, RoutingError, zodIssues, type ValidationIssue } from '../errors';
import { parseRouteFile } from '../file/route-file';
import { RouteSpecSchema, type Route } from '../route';
import type { GatewayRouteVersionsTable, GatewayRoutingDatabase, VersionSource, VersionStatus } from '../schema/tables';
import { diffRoutes, type RouteDiff } from './diff';
import { fromRow, toRow } from './rows';

/** The channel every route table LISTENs on; the payload is the newly active version. */
export const ROUTES_CHANGED_CHANNEL = 'gateway_routes_changed';

// Serializes activations and rollbacks (one transaction-scoped advisory lock, any fixed key will do).
const ACTIVATION_LOCK = 0x6761_7465; // "gate"

export interface RouteVersion {
  readonly version: number;
  readonly status: VersionStatus;
  readonly source: VersionSource;
  readonly note: string;
  readonly created_by: string | null;
  readonly created_at: string;
  readonly activated_at: string | null;
  readonly retired_at: string | null;
  readonly parent_version: number | null;
  readonly route_count: number;
}

export interface RouteVersionWithRoutes extends RouteVersion {
  /** Ordered by id. */
  readonly routes: readonly Route[];
}

export interface CreateDraftInput {
  /** The version the draft starts from (its routes are copied); default: the active version. */
  readonly from?: number;
  /** The draft's routes; when given they replace the copy (`from` then only records the parent). */
  readonly routes?: readonly unknown[];
  readonly source?: VersionSource;
  readonly note?: string;
  readonly createdBy?: string | null;
}

export interface Activation {
  readonly version: number;
  /** The version that was live before; null when there was none or `version` already was. */
  readonly previous: number | null;
  /** False when `version` already was the active one. */
  readonly changed: boolean;
}

/** Data access for versioned route sets; only drafts change, activation swaps the live set in one transaction. */
export interface RouteStore {
  listVersions(filter?: { status?: VersionStatus; source?: VersionSource; limit?: number }): Promise<RouteVersion[]>;
  /** Throws RoutingError `version_not_found`. */
  getVersion(version: number): Promise<RouteVersionWithRoutes>;
  /** The live version with its routes, or null before the first activation. */
  getActive(): Promise<RouteVersionWithRoutes | null>;
  /** Throws RouteValidationError (issues at `routes[i].field`) or `version_not_found` for a bad `from`. */
  createDraft(input?: CreateDraftInput): Promise<RouteVersionWithRoutes>;
  /** Adds or replaces one route of a draft; `spec` is validated here (issues at `field`). */
  upsertRoute(version: number, spec: unknown): Promise<{ route: Route; created: boolean }>;
  /** Throws `route_not_found`, `version_not_editable`, `version_not_found`. */
  deleteRoute(version: number, id: string): Promise<void>;
  /** Makes `version` (a draft or a retired version) the live one and notifies every route table. */
  activate(version: number): Promise<Activation>;
  /** Activates the version that was live before the current one; throws `no_previous_version`. */
  rollback(): Promise<Activation>;
  /** What turns version `a` into version `b`. */
  diff(a: number, b: number): Promise<RouteDiff>;
  /** A draft holding exactly the routes of a route file (YAML/JSON text or a parsed document). */
  applyFile(doc: unknown, options?: { note?: string; createdBy?: string | null }): Promise<RouteVersionWithRoutes>;
}

type Db = Kysely<GatewayRoutingDatabase>;
type VersionRow = Selectable<GatewayRouteVersionsTable>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toVersion(row: VersionRow, routeCount: number): RouteVersion {
  return {
    version: row.version,
    status: row.status,
    source: row.source,
    note: row.note,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    activated_at: iso(row.activated_at),
    retired_at: iso(row.retired_at),
    parent_version: row.parent_version,
    route_count: routeCount,
  };
}

function validateRoutes(specs: readonly unknown[]): Route[] {
  const issues: ValidationIssue[] = [];
  const routes: Route[] = [];
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    const parsed = RouteSpecSchema.safeParse(spec);
    if (!parsed.success) return void issues.push(...zodIssues(`routes[${i}]`, parsed.error));
    if (seen.has(parsed.data.id)) issues.push({ path: `routes[${i}].id`, message: `${parsed.data.id} appears twice` });
    seen.add(parsed.data.id);
    routes.push(parsed.data);
  });
  if (issues.length) throw new RouteValidationError(issues);
  return routes;
}

export function createRouteStore(db: Db): RouteStore {
  async function versionRow(trx: Db | Transaction<GatewayRoutingDatabase>, version: number, lock = false): Promise<VersionRow> {
    let q = trx.selectFrom('gateway_route_versions').selectAll().where('version', '=', version);
    if (lock) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw new RoutingError('version_not_found', `route version ${version} does not exist`);
    return row;
  }

  async function routesOf(trx: Db | Transaction<GatewayRoutingDatabase>, version: number): Promise<Route[]> {
    const rows = await trx.selectFrom('gateway_routes').selectAll().where('route_version', '=', version).orderBy('route_id').execute();
    return rows.map(fromRow);
  }

  async function insertRoutes(trx: Transaction<GatewayRoutingDatabase>, version: number, routes: readonly Route[]): Promise<void> {
    for (let i = 0; i < routes.length; i += 500) {
      await trx
        .insertInto('gateway_routes')
        .values(routes.slice(i, i + 500).map((r) => toRow(version, r)))
        .execute();
    }
  }

  async function withRoutes(row: VersionRow): Promise<RouteVersionWithRoutes> {
    const routes = await routesOf(db, row.version);
    return { ...toVersion(row, routes.length), routes };
  }

  async function draftRow(trx: Transaction<GatewayRoutingDatabase>, version: number): Promise<VersionRow> {
    // FOR SHARE: an activation of this version waits for the edit (and the edit then sees the new status).
    const row = await trx.selectFrom('gateway_route_versions').selectAll().where('version', '=', version).forShare().executeTakeFirst();
    if (!row) throw new RoutingError('version_not_found', `route version ${version} does not exist`);
    if (row.status !== 'draft') throw new RoutingError('version_not_editable', `route version ${version} is ${row.status}; only drafts can be edited`);
    return row;
  }

  async function activateLocked(trx: Transaction<GatewayRoutingDatabase>, version: number): Promise<Activation> {
    const target = await versionRow(trx, version, true);
    if (target.status === 'active') return { version, previous: null, changed: false };
    const routes = await routesOf(trx, version);
    if (routes.length === 0) {
      throw new RouteValidationError([{ path: 'routes', message: 'a version without routes cannot be activated (it would answer 404 to everything)' }]);
    }
    const retired = await trx
      .updateTable('gateway_route_versions')
      .set({ status: 'retired', retired_at: sql<Date>`now()` })
      .where('status', '=', 'active')
      .returning('version')
      .executeTakeFirst();
    await trx
      .updateTable('gateway_route_versions')
      .set({ status: 'active', activated_at: sql<Date>`now()`, retired_at: null })
      .where('version', '=', version)
      .execute();
    // Delivered at commit, to every listening replica.
    await sql`SELECT pg_notify(${ROUTES_CHANGED_CHANNEL}, ${String(version)})`.execute(trx);
    return { version, previous: retired?.version ?? null, changed: true };
  }

  const store: RouteStore = {
    async listVersions(filter = {}) {
      let q = db
        .selectFrom('gateway_route_versions as v')
        .selectAll('v')
        .select((eb) =>
          eb
            .selectFrom('gateway_routes as r')
            .whereRef('r.route_version', '=', 'v.version')
            .select(sql<number>`count(*)::int`.as('n'))
            .as('route_count'),
        )
        .orderBy('v.version', 'desc')
        .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
      if (filter.status) q = q.where('v.status', '=', filter.status);
      if (filter.source) q = q.where('v.source', '=', filter.source);
      const rows = await q.execute();
      return rows.map((row) => toVersion(row, Number(row.route_count ?? 0)));
    },

    async getVersion(version) {
      return withRoutes(await versionRow(db, version));
    },

    async getActive() {
      const row = await db.selectFrom('gateway_route_versions').selectAll().where('status', '=', 'active').executeTakeFirst();
      return row ? withRoutes(row) : null;
    },

    async createDraft(input = {}) {
      const given = input.routes ? validateRoutes(input.routes) : undefined;
      const version = await db.transaction().execute(async (trx) => {
        let parent: number | null = input.from ?? null;
        if (parent !== null) await versionRow(trx, parent);
        else {
          const active = await trx.selectFrom('gateway_route_versions').select('version').where('status', '=', 'active').executeTakeFirst();
          parent = active?.version ?? null;
        }
        const created = await trx
          .insertInto('gateway_route_versions')
          .values({ status: 'draft', source: input.source ?? 'admin', note: input.note ?? '', created_by: input.createdBy ?? null, parent_version: parent })
          .returning('version')
          .executeTakeFirstOrThrow();
        const routes = given ?? (parent === null ? [] : await routesOf(trx, parent));
        await insertRoutes(trx, created.version, routes);
        return created.version;
      });
      return store.getVersion(version);
    },

    async upsertRoute(version, spec) {
      const parsed = RouteSpecSchema.safeParse(spec);
      if (!parsed.success) throw new RouteValidationError(zodIssues('', parsed.error));
      const route = parsed.data;
      return db.transaction().execute(async (trx) => {
        await draftRow(trx, version);
        const row = toRow(version, route);
        const { route_version: _v, route_id: _id, ...rest } = row;
        const result = await trx
          .insertInto('gateway_routes')
          .values(row)
          .onConflict((oc) => oc.columns(['route_version', 'route_id']).doUpdateSet(rest))
          // xmax = 0 only for a freshly inserted row.
          .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
          .executeTakeFirstOrThrow();
        return { route, created: result.inserted };
      });
    },

    async deleteRoute(version, id) {
      await db.transaction().execute(async (trx) => {
        await draftRow(trx, version);
        const result = await trx.deleteFrom('gateway_routes').where('route_version', '=', version).where('route_id', '=', id).executeTakeFirst();
        if (result.numDeletedRows === 0n) throw new RoutingError('route_not_found', `route ${id} is not in version ${version}`);
      });
    },

    async activate(version) {
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${ACTIVATION_LOCK})`.execute(trx);
        return activateLocked(trx, version);
      });
    },

    async rollback() {
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${ACTIVATION_LOCK})`.execute(trx);
        const previous = await trx
          .selectFrom('gateway_route_versions')
          .select('version')
          .where('status', '=', 'retired')
          .orderBy('retired_at', 'desc')
          .orderBy('version', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!previous) throw new RoutingError('no_previous_version', 'no version was live before the current one');
        return activateLocked(trx, previous.version);
      });
    },

    async diff(a, b) {
      const [va, vb] = await Promise.all([store.getVersion(a), store.getVersion(b)]);
      return diffRoutes(va.routes, vb.routes);
    },

    async applyFile(doc, options = {}) {
      const routes = parseRouteFile(doc);
      return store.createDraft({ routes, source: 'file', note: options.note ?? 'route file', createdBy: options.createdBy ?? null });
    },
  };
  return store;
}
