import type { Kysely } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import { compileRoutes, type Matcher } from '../match/compile';
import type { Route, RouteMatch } from '../route';
import type { GatewayRoutingDatabase } from '../schema/tables';
import { fromRow } from '../store/rows';
import { ROUTES_CHANGED_CHANNEL } from '../store/route-store';
import { listen } from './listener';

export interface RouteTableOptions {
  readonly db: Kysely<GatewayRoutingDatabase>;
  /** For the dedicated LISTEN connection. */
  readonly databaseUrl: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Safety-net re-read of the active version, in case a notification is lost (default 30 s). */
  readonly pollMs?: number;
}

export interface RouteTableChange {
  readonly version: number | null;
  readonly previous: number | null;
  readonly routes: readonly Route[];
}

/** The live route set of one process: matched synchronously, swapped whole when another version goes live. */
export interface RouteTable {
  match(method: string, host: string, path: string): RouteMatch;
  /** The live version; null before the first activation (every request then matches nothing). */
  version(): number | null;
  routes(): readonly Route[];
  /** Called after each swap; returns the unsubscribe function. */
  onChange(listener: (change: RouteTableChange) => void): () => void;
  /** Re-reads the active version now (the notification and the poll call this too). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

interface Snapshot {
  readonly version: number | null;
  readonly routes: readonly Route[];
  readonly matcher: Matcher;
}

/**
 * Loads and compiles the active version, then keeps it current: PostgreSQL LISTEN/NOTIFY on a
 * dedicated connection (re-read after every reconnection), and a periodic poll. A failed reload
 * keeps the set that is live; requests never wait for a reload.
 */
export async function openRouteTable(options: RouteTableOptions): Promise<RouteTable> {
  const { db, logger } = options;
  const listeners = new Set<(change: RouteTableChange) => void>();
  let live: Snapshot = { version: null, routes: [], matcher: compileRoutes([]) };
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;

  async function loadOnce(): Promise<void> {
    const active = await db.selectFrom('gateway_route_versions').select('version').where('status', '=', 'active').executeTakeFirst();
    const version = active?.version ?? null;
    if (version === live.version) return;
    // A version's routes never change once it has been active, so reading them apart from the version is safe.
    const rows = version === null ? [] : await db.selectFrom('gateway_routes').selectAll().where('route_version', '=', version).orderBy('route_id').execute();
    const routes = rows.map(fromRow);
    const next: Snapshot = { version, routes, matcher: compileRoutes(routes, version ?? 0) };
    const previous = live.version;
    live = next;
    logger.info({ version, previous, routes: routes.length }, 'route table: version loaded');
    for (const listener of listeners) {
      try {
        listener({ version, previous, routes });
      } catch (err) {
        logger.error({ err }, 'route table: change listener failed');
      }
    }
  }

  function reload(): Promise<void> {
    // One reload at a time; a request for another while one runs is served by one more pass after it.
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await loadOnce();
        } while (again && !closed);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  const reloadLogged = (why: string) => {
    if (closed) return;
    reload().catch((err: unknown) => logger.warn({ err, why }, 'route table: reload failed; keeping the live version'));
  };

  await reload();
  const listener = listen({
    databaseUrl: options.databaseUrl,
    channel: ROUTES_CHANGED_CHANNEL,
    logger,
    onNotify: () => reloadLogged('notification'),
    onConnect: () => reloadLogged('reconnected'),
  });
  await listener.ready;
  const poll = setInterval(() => reloadLogged('poll'), options.pollMs ?? 30_000);
  poll.unref();

  return {
    match: (method, host, path) => live.matcher.match(method, host, path),
    version: () => live.version,
    routes: () => live.routes,
    onChange(cb) {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
    reload,
    async close() {
      closed = true;
      clearInterval(poll);
      await listener.close();
      await running?.catch(() => undefined);
    },
  };
}
