import { once } from 'node:events';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { sql, type Kysely } from '@cloud-stack/db';
import { bearerToken, IdentityUnavailableError, type IdentityClient } from '@cloud-stack/identity-client';
import { HttpProblem } from '@cloud-stack/service-kit';
import { listPublicKeys } from '../seal/signing-key';
import { verifyAuditLog } from '../verify/verify';
import { authorizeCaller, type AuditCaller } from './caller';
import { encodeCursor, type CursorKey } from './cursor';
import { csvHeader, csvRow } from './csv';
import { assertEventId, EventFilterSchema, filterConditions, parseCursorParam, parseQuery, selectEventPage } from './events-query';
import { asCaller, DEFAULT_READER_ROLES, type ReaderRoles } from './scoped';
import { causalOrder, type TraceEvent } from './trace';

export const AUDIT_API_BASE = '/v1/audit';

export interface AuditApiOptions {
  readonly db: Kysely<unknown>;
  /** Checks bearer tokens (the shared identity client: introspection, cache, revocations). */
  readonly identity: Pick<IdentityClient, 'introspect'>;
  /** Tenant whose owners/admins are platform auditors (PLATFORM_TENANT_ID); default "platform". */
  readonly platformTenantId?: string;
  readonly roles?: ReaderRoles;
  /** Largest `limit` of GET /events; default 200. */
  readonly maxPageSize?: number;
  /** Rows per keyset batch of the export; default 1000. */
  readonly exportBatchSize?: number;
  /** Most events returned by GET /traces/{id}; default 10000. */
  readonly maxTraceEvents?: number;
}

const TRACE_ID = z.string().min(1).max(200);

function callerOf(res: Response): AuditCaller {
  return res.locals.auditCaller as AuditCaller;
}

/**
 * The read side of the audit log, every path under /v1/audit (mount with `app.use(router)`):
 * GET events, events/{event_id}, traces/{correlation_id}, export, verify (bearer token checked
 * by introspection) and public-key (open).
 */
export function createAuditApiRouter(options: AuditApiOptions): Router {
  const { db } = options;
  const roles = options.roles ?? DEFAULT_READER_ROLES;
  const maxPage = options.maxPageSize ?? 200;
  const batch = options.exportBatchSize ?? 1000;
  const maxTrace = options.maxTraceEvents ?? 10_000;
  const rules = { platformTenantId: options.platformTenantId ?? 'platform' };
  const router = Router();

  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) throw new HttpProblem(401, 'a bearer token is required', { headers: { 'www-authenticate': 'Bearer' } });
    let intro;
    try {
      intro = await options.identity.introspect(token);
    } catch (err) {
      if (err instanceof IdentityUnavailableError) throw new HttpProblem(503, 'the identity service cannot check tokens right now', { headers: { 'retry-after': '5' } });
      throw err;
    }
    res.locals.auditCaller = authorizeCaller(intro, rules);
    next();
  };

  router.get(`${AUDIT_API_BASE}/public-key`, async (_req, res) => {
    res.json({ keys: await listPublicKeys(db) });
  });

  router.get(`${AUDIT_API_BASE}/events`, authenticate, async (req, res) => {
    const q = parseQuery(
      EventFilterSchema.extend({ limit: z.coerce.number().int().min(1).max(maxPage).default(50), cursor: z.string().max(500).optional() }),
      req.query,
    );
    const caller = callerOf(res);
    const conditions = filterConditions(q, caller);
    const after = parseCursorParam(q.cursor);
    const rows = await asCaller(db, caller, roles, (trx) => selectEventPage(trx, conditions, 'desc', after, q.limit + 1));
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((r) => r.doc),
      next_cursor: rows.length > q.limit && last ? encodeCursor({ ts: last.cursor_ts, id: last.cursor_id }) : null,
    });
  });

  router.get(`${AUDIT_API_BASE}/events/:event_id`, authenticate, async (req, res) => {
    const id = String(req.params.event_id);
    assertEventId(id);
    const caller = callerOf(res);
    const conditions = filterConditions({}, caller);
    conditions.push(sql`e.event_id = ${id}::uuid`);
    const rows = await asCaller(db, caller, roles, (trx) => selectEventPage(trx, conditions, 'desc', undefined, 1));
    if (!rows[0]) throw new HttpProblem(404, `no audit event ${id} visible to you`);
    res.json(rows[0].doc);
  });

  router.get(`${AUDIT_API_BASE}/traces/:correlation_id`, authenticate, async (req, res) => {
    const parsed = TRACE_ID.safeParse(req.params.correlation_id);
    if (!parsed.success) throw new HttpProblem(400, 'correlation_id must be 1..200 characters');
    const caller = callerOf(res);
    const conditions = filterConditions({ correlation_id: parsed.data }, caller);
    const rows = await asCaller(db, caller, roles, (trx) => selectEventPage(trx, conditions, 'asc', undefined, maxTrace + 1));
    if (rows.length === 0) throw new HttpProblem(404, `no audit events for correlation id ${parsed.data} visible to you`);
    const events = rows.slice(0, maxTrace).map((r) => r.doc as TraceEvent);
    res.json({ correlation_id: parsed.data, truncated: rows.length > maxTrace, events: causalOrder(events) });
  });

  router.get(`${AUDIT_API_BASE}/export`, authenticate, async (req, res) => {
    const q = parseQuery(EventFilterSchema.extend({ format: z.enum(['jsonl', 'csv']).default('jsonl') }), req.query);
    const caller = callerOf(res);
    const conditions = filterConditions(q, caller);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const csv = q.format === 'csv';
    res.status(200);
    res.setHeader('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="audit-events.${q.format}"`);
    res.setHeader('cache-control', 'no-store');
    const write = async (chunk: string) => {
      if (!res.write(chunk) && !closed) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    };
    if (csv) await write(csvHeader());
    // Keyset batches, each in its own short transaction: memory stays at one batch and a slow
    // client never pins a database connection.
    let after: CursorKey | undefined;
    while (!closed) {
      const rows = await asCaller(db, caller, roles, (trx) => selectEventPage(trx, conditions, 'asc', after, batch, !csv));
      let chunk = '';
      for (const r of rows) chunk += csv ? csvRow(r.doc) : `${r.doc as unknown as string}\n`;
      if (chunk) await write(chunk);
      const last = rows[rows.length - 1];
      if (!last || rows.length < batch) break;
      after = { ts: last.cursor_ts, id: last.cursor_id };
    }
    res.end();
  });

  router.get(`${AUDIT_API_BASE}/verify`, authenticate, async (req, res) => {
    const q = parseQuery(
      z.object({
        from: EventFilterSchema.shape.from,
        to: EventFilterSchema.shape.to,
        anchor: z
          .string()
          .regex(/^[1-9][0-9]{0,15}:[0-9a-f]{64}$/, 'must be <digest_no>:<digest_hash> as a past chain_head gave them')
          .optional(),
      }),
      req.query,
    );
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
    if (from >= to) throw new HttpProblem(400, 'from must be before to');
    const caller = callerOf(res);
    const anchor = q.anchor ? { digestNo: Number(q.anchor.split(':')[0]), digestHash: q.anchor.split(':')[1]! } : undefined;
    res.json(await verifyAuditLog(db, { from, to, ...(anchor ? { anchor } : {}), ...(caller.platform ? {} : { tenantId: caller.tenantId! }) }));
  });

  return router;
}
