import { Router, type Request, type RequestHandler } from 'express';
import type { AuditEventInput } from '@cloud-stack/contracts';
import type { RouteStore, RouteTable, VersionSource, VersionStatus } from '@cloud-stack/gateway-routing';
import { VERSION_SOURCES, VERSION_STATUSES } from '@cloud-stack/gateway-routing';
import { HttpProblem, type Logger } from '@cloud-stack/service-kit';
import type { RouteDiscovery } from '../discovery/discover';
import { TRAFFIC_MAX_MINUTES, type TrafficReport } from '../traffic/traffic-history';
import { auditChanges, type Subject } from './audit';
import { jsonBody, jsonOrYamlBody } from './body';
import { streamUpstreams, type EventStreams, type UpstreamFeed } from './health-stream';
import { evaluate, type PolicyPlayground } from './policy-routes';
import { problemHandler } from './problems';

export const READ_PERMISSION = 'route:read';
export const ADMIN_PERMISSION = 'route:admin';
export const DEFAULT_TRAFFIC_MINUTES = 15;

export interface AdminDeps {
  readonly store: RouteStore;
  /** This replica's live table: GET /routes shows what it serves, and it is reloaded right after an activation. */
  readonly table: Pick<RouteTable, 'version' | 'routes' | 'reload'>;
  /** The caller; throws an HttpProblem (401 no or bad credentials, 503 identity unavailable). */
  authenticate(req: Request): Promise<Subject>;
  authorize(subject: Subject, permission: string): Promise<boolean>;
  emitAudit(event: AuditEventInput): void;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly discovery?: RouteDiscovery;
  /** Upstream health for GET /health/stream. */
  readonly upstreams?: UpstreamFeed;
  /** Open event streams, ended by the app at shutdown. */
  readonly streams?: EventStreams;
  /** Recent traffic for GET /traffic. */
  readonly traffic?: { report(minutes: number): Promise<TrafficReport> };
  /** The policy for GET /policy and POST /policy/evaluate. */
  readonly policy?: PolicyPlayground;
}

function versionParam(value: unknown): number {
  const text = typeof value === 'string' ? value : '';
  const n = Number(text);
  if (!/^[1-9][0-9]{0,9}$/.test(text) || n > 2_147_483_647) throw new HttpProblem(404, `no such version: ${text}`);
  return n;
}

function oneOf<T extends string>(values: readonly T[], value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  throw new HttpProblem(400, `${name} must be one of ${values.join(', ')}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The route admin API, mounted by the app at `/__gateway/admin`. Reads need `route:read`, changes
 * `route:admin`; every change is audited; errors are problem+json (422 with `errors: [{path,
 * message}]` for invalid routes).
 */
export function createAdminRouter(deps: AdminDeps): Router {
  const { store, table } = deps;
  const router = Router();

  const requirePermission =
    (permission: string): RequestHandler =>
    async (req, res, next) => {
      const subject = await deps.authenticate(req);
      res.locals.adminSubject = subject;
      if (!(await deps.authorize(subject, permission))) throw new HttpProblem(403, `requires permission ${permission}`);
      next();
    };
  const read = requirePermission(READ_PERMISSION);
  /** Audit first (so refusals are recorded too), then the permission check. */
  const change = (action: string): RequestHandler[] => [auditChanges(deps.emitAudit, action), requirePermission(ADMIN_PERMISSION)];
  const actor = (req: Request) => {
    const s = req.res?.locals.adminSubject;
    return s?.sub ?? s?.client_id ?? null;
  };
  const record = (req: Request, details: Record<string, unknown>) => {
    const locals = req.res!.locals;
    locals.adminAction = { ...locals.adminAction!, ...details };
  };

  // Who the caller is and what the console may offer them; signed in with neither permission is still a 200.
  router.get('/me', async (req, res) => {
    const subject = await deps.authenticate(req);
    const [canRead, canAdmin] = await Promise.all([deps.authorize(subject, READ_PERMISSION), deps.authorize(subject, ADMIN_PERMISSION)]);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ subject, permissions: { read: canRead, admin: canAdmin } });
  });

  const configured = <T>(dep: T | undefined, what: string): T => {
    if (!dep) throw new HttpProblem(404, `${what} is not configured on this gateway`);
    return dep;
  };

  router.get('/health/stream', read, (req, res) => {
    streamUpstreams(configured(deps.upstreams, 'upstream health'), req, res, { streams: deps.streams });
  });

  router.get('/traffic', read, async (req, res) => {
    const raw = req.query.minutes;
    const minutes = raw === undefined ? DEFAULT_TRAFFIC_MINUTES : typeof raw === 'string' && /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!(minutes >= 1 && minutes <= TRAFFIC_MAX_MINUTES)) {
      throw new HttpProblem(400, `minutes must be a whole number 1..${TRAFFIC_MAX_MINUTES}`, { extensions: { errors: [{ path: 'minutes', message: `1..${TRAFFIC_MAX_MINUTES}` }] } });
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(await configured(deps.traffic, 'traffic history').report(minutes));
  });

  router.get('/policy', read, async (_req, res) => {
    res.json(await configured(deps.policy, 'the policy playground').describe());
  });

  // Only evaluates (nothing changes), so reading is enough.
  router.post('/policy/evaluate', read, jsonBody, async (req, res) => {
    res.json(await evaluate(configured(deps.policy, 'the policy playground'), table.routes(), req.body, req));
  });

  router.get('/routes', read, (_req, res) => {
    res.json({ version: table.version(), routes: table.routes() });
  });

  router.get('/versions', read, async (req, res) => {
    const status = oneOf<VersionStatus>(VERSION_STATUSES, req.query.status, 'status');
    const source = oneOf<VersionSource>(VERSION_SOURCES, req.query.source, 'source');
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0 && limit <= 1000)) throw new HttpProblem(400, 'limit must be 1..1000');
    res.json({ versions: await store.listVersions({ status, source, limit }) });
  });

  router.get('/versions/:v', read, async (req, res) => {
    res.json(await store.getVersion(versionParam(req.params.v)));
  });

  router.get('/versions/:a/diff/:b', read, async (req, res) => {
    const a = versionParam(req.params.a);
    const b = versionParam(req.params.b);
    res.json({ from: a, to: b, ...(await store.diff(a, b)) });
  });

  router.post('/versions', ...change('version.create'), jsonBody, async (req, res) => {
    const body: unknown = req.body ?? {};
    if (!isRecord(body)) throw new HttpProblem(422, 'expected an object', { extensions: { errors: [{ path: '', message: 'expected an object' }] } });
    const { from, note, routes, ...rest } = body;
    const errors = [
      ...Object.keys(rest).map((k) => ({ path: k, message: 'unknown field' })),
      ...(from === undefined || (Number.isInteger(from) && (from as number) > 0) ? [] : [{ path: 'from', message: 'a version number' }]),
      ...(note === undefined || (typeof note === 'string' && note.length <= 2000) ? [] : [{ path: 'note', message: 'text of at most 2000 characters' }]),
      ...(routes === undefined || Array.isArray(routes) ? [] : [{ path: 'routes', message: 'a list of routes' }]),
    ];
    if (errors.length) throw new HttpProblem(422, errors[0]!.message, { extensions: { errors } });
    const draft = await store.createDraft({
      from: from as number | undefined,
      routes: routes as unknown[] | undefined,
      note: note as string | undefined,
      source: 'admin',
      createdBy: actor(req),
    });
    record(req, { version: draft.version, from: draft.parent_version, routes: draft.route_count });
    res.status(201).json(draft);
  });

  router.put('/versions/:v/routes/:id', ...change('route.upsert'), jsonBody, async (req, res) => {
    const version = versionParam(req.params.v);
    const id = String(req.params.id);
    record(req, { version, route_id: id });
    const body: unknown = req.body;
    if (!isRecord(body)) throw new HttpProblem(422, 'expected a route object', { extensions: { errors: [{ path: '', message: 'expected a route object' }] } });
    if (body.id !== undefined && body.id !== id) {
      throw new HttpProblem(422, 'id differs from the URL', { extensions: { errors: [{ path: 'id', message: `must be ${id} (as in the URL) or left out` }] } });
    }
    const result = await store.upsertRoute(version, { ...body, id });
    record(req, { created: result.created });
    res.status(result.created ? 201 : 200).json(result.route);
  });

  router.delete('/versions/:v/routes/:id', ...change('route.delete'), async (req, res) => {
    const version = versionParam(req.params.v);
    const id = String(req.params.id);
    record(req, { version, route_id: id });
    await store.deleteRoute(version, id);
    res.status(204).end();
  });

  const activated = async (req: Request, result: { version: number; previous: number | null; changed: boolean }) => {
    record(req, { version: result.version, previous: result.previous, changed: result.changed });
    // This replica serves the new version before the answer goes out; the others follow on NOTIFY.
    await table.reload().catch((err: unknown) => deps.logger.warn({ err }, 'gateway admin: reload after activation failed'));
    deps.logger.info({ version: result.version, previous: result.previous, by: actor(req) }, 'gateway admin: route version activated');
  };

  router.post('/versions/:v/activate', ...change('version.activate'), async (req, res) => {
    const version = versionParam(req.params.v);
    record(req, { version });
    const result = await store.activate(version);
    await activated(req, result);
    res.json(result);
  });

  router.post('/rollback', ...change('version.rollback'), async (req, res) => {
    const result = await store.rollback();
    await activated(req, result);
    res.json(result);
  });

  router.post('/apply', ...change('file.apply'), jsonOrYamlBody, async (req, res) => {
    const activate = req.query.activate === 'true';
    if (req.query.activate !== undefined && !activate && req.query.activate !== 'false') throw new HttpProblem(400, 'activate must be true or false');
    const note = typeof req.query.note === 'string' ? req.query.note.slice(0, 2000) : 'applied route file';
    const draft = await store.applyFile(req.body, { note, createdBy: actor(req) });
    record(req, { version: draft.version, routes: draft.route_count, activate });
    if (!activate) return void res.status(201).json(draft);
    const result = await store.activate(draft.version);
    await activated(req, result);
    res.status(201).json({ ...draft, status: 'active', activation: result });
  });

  const discovery = (): RouteDiscovery => configured(deps.discovery, 'route discovery');

  router.post('/discovery/run', ...change('discovery.run'), async (req, res) => {
    const result = await discovery().run();
    record(req, { version: result.proposal?.version ?? null, created: result.created, added: result.added.map((r) => r.id) });
    res.json(result);
  });

  router.get('/discovery/proposals', read, async (_req, res) => {
    res.json({ proposals: await discovery().proposals() });
  });

  router.use(problemHandler());
  return router;
}
