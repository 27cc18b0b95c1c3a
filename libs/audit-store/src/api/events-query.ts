import { z } from 'zod';
import type { RawBuilder } from 'kysely';
import { sql, type Kysely } from '@cloud-stack/db';
import { UUID_PATTERN } from '@cloud-stack/contracts';
import { HttpProblem } from '@cloud-stack/service-kit';
import { canonicalEventSql, isoSql } from '../seal/canonical';
import type { AuditCaller } from './caller';
import { decodeCursor, type CursorKey } from './cursor';

type RawSql = RawBuilder<unknown>;

const one = z.string().min(1).max(2048);
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time');

export const EventFilterSchema = z.object({
  correlation_id: one.optional(),
  causation_id: one.optional(),
  user_id: one.optional(),
  tenant_id: one.optional(),
  route: one.optional(),
  category: one.optional(),
  status: z.string().regex(/^(\d{3}|[1-5]xx)$/, 'must be a status code or a class like 5xx').optional(),
  decision: z.enum(['allow', 'deny', 'none']).optional(),
  from: time.optional(),
  to: time.optional(),
});
export type EventFilter = z.infer<typeof EventFilterSchema>;

/** Parses query parameters with zod; any problem is a 400 naming the parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpProblem(400, `query parameter ${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The JSON document of an event as the API returns it: the canonical event plus seq and
 * ingested_at, and `details` always present (null when the event has none).
 */
export const EVENT_DOC_SQL = `(${canonicalEventSql('e')} || jsonb_build_object('details', e.details, 'seq', e.seq, 'ingested_at', ${isoSql('e.ingested_at')}))`;
export const CURSOR_TS_SQL = isoSql('e.occurred_at');

/**
 * WHERE conditions for `filter`, seen by `caller`. A tenant auditor's own tenant is always a
 * condition here too (RLS enforces it again underneath); asking for another tenant is a 403.
 */
export function filterConditions(filter: EventFilter, caller: AuditCaller): RawSql[] {
  const c: RawSql[] = [];
  if (!caller.platform) {
    if (filter.tenant_id !== undefined && filter.tenant_id !== caller.tenantId) {
      throw new HttpProblem(403, 'tenant_id may name only your own tenant; other tenants are for platform auditors');
    }
    c.push(sql`e.tenant_id = ${caller.tenantId}`);
  } else if (filter.tenant_id !== undefined) c.push(sql`e.tenant_id = ${filter.tenant_id}`);
  if (filter.correlation_id !== undefined) c.push(sql`e.correlation_id = ${filter.correlation_id}`);
  if (filter.causation_id !== undefined) c.push(sql`e.causation_id = ${filter.causation_id}`);
  if (filter.user_id !== undefined) c.push(sql`e.user_id = ${filter.user_id}`);
  if (filter.route !== undefined) c.push(sql`e.route_id = ${filter.route}`);
  if (filter.category !== undefined) c.push(sql`e.category::text = ${filter.category}`);
  if (filter.status !== undefined) {
    if (filter.status.endsWith('xx')) {
      const base = Number(filter.status[0]) * 100;
      c.push(sql`e.status >= ${base} AND e.status < ${base + 100}`);
    } else c.push(sql`e.status = ${Number(filter.status)}`);
  }
  if (filter.decision === 'none') c.push(sql`e.decision IS NULL`);
  else if (filter.decision !== undefined) c.push(sql`(e.decision::jsonb ->> 'allow')::boolean = ${filter.decision === 'allow'}`);
  if (filter.from !== undefined) c.push(sql`e.occurred_at >= ${new Date(filter.from)}`);
  if (filter.to !== undefined) c.push(sql`e.occurred_at < ${new Date(filter.to)}`);
  return c;
}

export function whereSql(conditions: RawSql[]): RawSql {
  return (conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``);
}

export interface EventPageRow {
  doc: Record<string, unknown>;
  cursor_ts: string;
  cursor_id: string;
}

/** One keyset page of events; `order` 'desc' is newest first. */
export async function selectEventPage(
  trx: Kysely<unknown>,
  conditions: RawSql[],
  order: 'asc' | 'desc',
  after: CursorKey | undefined,
  limit: number,
  asText = false,
): Promise<EventPageRow[]> {
  const all = [...conditions];
  if (after) {
    all.push(
      (order === 'desc'
        ? sql`(e.occurred_at, e.event_id) < (${after.ts}::timestamptz, ${after.id}::uuid)`
        : sql`(e.occurred_at, e.event_id) > (${after.ts}::timestamptz, ${after.id}::uuid)`),
    );
  }
  const dir = sql.raw(order === 'desc' ? 'DESC' : 'ASC');
  const doc = sql.raw(asText ? `${EVENT_DOC_SQL}::text` : EVENT_DOC_SQL);
  const { rows } = await sql<EventPageRow>`SELECT ${doc} AS doc, ${sql.raw(CURSOR_TS_SQL)} AS cursor_ts, e.event_id::text AS cursor_id
    FROM audit_events_all e ${whereSql(all)}
    ORDER BY e.occurred_at ${dir}, e.event_id ${dir} LIMIT ${limit}`.execute(trx);
  return rows;
}

export function parseCursorParam(value: string | undefined): CursorKey | undefined {
  return value === undefined ? undefined : decodeCursor(value);
}

export function assertEventId(id: string): void {
  if (!UUID_PATTERN.test(id)) throw new HttpProblem(400, 'event_id must be a UUID');
}
