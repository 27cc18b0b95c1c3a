import type { Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntrospectionResponse } from '@cloud-stack/contracts';
import { sql, type Kysely } from '@cloud-stack/db';
import { createApp, createLogger } from '@cloud-stack/service-kit';
import { useTestDatabase } from '@cloud-stack/test-kit';
import { createIdentityClient, IdentityUnavailableError } from '@cloud-stack/identity-client';
import { asCaller, createAuditApiRouter, DEFAULT_READER_ROLES, loadDigestSigner, sealClosedIntervals } from '../../src/index';
import { HOUR, insertEvents, makeEvent, openMigratedDb } from './helpers';

const testDb = useTestDatabase('audit_api');
const exp = Math.floor(Date.now() / 1000) + 3600;
const claims = (tenant: string, roles: string[], extra: Record<string, unknown> = {}): IntrospectionResponse =>
  ({ active: true, sub: `user-${tenant}`, client_id: 'web', scope: 'openid', tenant_id: tenant, roles, exp, iat: exp - 3600, jti: `jti-${tenant}-${roles.join('-')}`, ...extra }) as IntrospectionResponse;
const TOKENS: Record<string, IntrospectionResponse> = {
  'tok-a': claims('tenant-a', ['admin']),
  'tok-b': claims('tenant-b', ['owner']),
  'tok-platform': claims('platform', ['admin']),
  'tok-viewer': claims('tenant-a', ['viewer']),
  'tok-inactive': { active: false },
};

let db: Kysely<unknown>;
let identity: Server;
let introspectionCalls = 0;
let app: express.Express;
const t0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
const aEvents = Array.from({ length: 25 }, (_, i) => makeEvent({ occurred_at: at(i * 3), tenant_id: 'tenant-a', correlation_id: 'corr-a' }));
const bEvents = Array.from({ length: 5 }, (_, i) => makeEvent({ occurred_at: at(i * 3 + 1), tenant_id: 'tenant-b', correlation_id: 'corr-a', user_id: 'user-b' }));

beforeAll(async () => {
  db = await openMigratedDb(testDb.url);
  await insertEvents(db, [...aEvents, ...bEvents]);

  const fake = express();
  fake.use(express.urlencoded({ extended: false }));
  fake.post('/oauth/introspect', (req, res) => {
    introspectionCalls++;
    if (req.get('authorization') !== `Basic ${Buffer.from('audit-writer:s3cret').toString('base64')}`) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    res.json(TOKENS[String(req.body.token)] ?? { active: false });
  });
  identity = await new Promise<Server>((resolve) => {
    const s = fake.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = identity.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const identityClient = createIdentityClient({ url: `http://127.0.0.1:${port}`, clientId: 'audit-writer', clientSecret: 's3cret' });
  app = createApp({
    name: 'audit-api-test',
    logger: createLogger('audit-api-test', 'silent'),
    mount: (a) => a.use(createAuditApiRouter({ db, identity: identityClient, exportBatchSize: 7 })),
  });
});
afterAll(async () => {
  await new Promise((resolve) => identity?.close(resolve));
  await db?.destroy();
});

const get = (path: string, token?: string) => {
  const r = request(app).get(path);
  return token ? r.set('authorization', `Bearer ${token}`) : r;
};

describe('audit read API', () => {
  it('rejects missing, inactive and under-privileged tokens with problem+json', async () => {
    const none = await get('/v1/audit/events');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await get('/v1/audit/events', 'tok-inactive')).status).toBe(401);
    expect((await get('/v1/audit/events', 'tok-unknown')).status).toBe(401);
    const viewer = await get('/v1/audit/events', 'tok-viewer');
    expect(viewer.status).toBe(403);
    expect(viewer.body).toMatchObject({ status: 403, title: 'Forbidden' });
  });

  it('answers 503 with Retry-After when identity cannot be asked', async () => {
    const down = createApp({
      name: 'audit-api-down',
      logger: createLogger('audit-api-down', 'silent'),
      mount: (a) =>
        a.use(
          createAuditApiRouter({
            db,
            identity: {
              introspect: async () => {
                throw new IdentityUnavailableError('network', 'connection refused');
              },
            },
          }),
        ),
    });
    const res = await request(down).get('/v1/audit/events').set('authorization', 'Bearer tok-a');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('caches introspection answers by token hash', async () => {
    const before = introspectionCalls;
    await get('/v1/audit/events?limit=1', 'tok-a').expect(200);
    await get('/v1/audit/events?limit=1', 'tok-a').expect(200);
    expect(introspectionCalls - before).toBeLessThanOrEqual(1);
  });

  it('never shows a tenant auditor another tenant’s rows, whatever the query says', async () => {
    expect((await get('/v1/audit/events?tenant_id=tenant-b', 'tok-a')).status).toBe(403);
    const own = await get('/v1/audit/events?limit=200&tenant_id=tenant-a', 'tok-a').expect(200);
    expect(own.body.items).toHaveLength(25);
    expect(own.body.items.every((e: { tenant_id: string }) => e.tenant_id === 'tenant-a')).toBe(true);
    const byUser = await get('/v1/audit/events?user_id=user-b', 'tok-a').expect(200);
    expect(byUser.body.items).toEqual([]);
    expect((await get(`/v1/audit/events/${bEvents[0]!.event_id}`, 'tok-a')).status).toBe(404);
    const trace = await get('/v1/audit/traces/corr-a', 'tok-a').expect(200);
    expect(trace.body.events.every((e: { tenant_id: string }) => e.tenant_id === 'tenant-a')).toBe(true);
    const exported = await get('/v1/audit/export?format=jsonl', 'tok-a').expect(200);
    expect(exported.text.trim().split('\n')).toHaveLength(25);
    expect(exported.text).not.toContain('tenant-b');
  });

  it('enforces tenant isolation inside PostgreSQL too (RLS under the reader role)', async () => {
    const count = (tenantId: string | null) =>
      asCaller(db, { subject: 's', tenantId, platform: tenantId === null }, DEFAULT_READER_ROLES, async (trx) =>
        Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events_all`.execute(trx)).rows[0]!.n),
      );
    expect(await count('tenant-a')).toBe(25);
    expect(await count('tenant-b')).toBe(5);
    expect(await count(null)).toBe(30);
    const hashes = asCaller(db, { subject: 's', tenantId: 'tenant-a', platform: false }, DEFAULT_READER_ROLES, (trx) => sql`SELECT 1 FROM audit_row_hashes`.execute(trx));
    await expect(hashes).rejects.toThrow(/permission denied/);
  });

  it('lets platform auditors filter by any tenant', async () => {
    const b = await get('/v1/audit/events?tenant_id=tenant-b', 'tok-platform').expect(200);
    expect(b.body.items).toHaveLength(5);
    const all = await get('/v1/audit/events?limit=200', 'tok-platform').expect(200);
    expect(all.body.items).toHaveLength(30);
    const one = await get(`/v1/audit/events/${bEvents[0]!.event_id}`, 'tok-platform').expect(200);
    expect(one.body).toMatchObject({ event_id: bEvents[0]!.event_id, tenant_id: 'tenant-b', decision: bEvents[0]!.decision });
  });

  it('pages newest first with a stable cursor, unaffected by new events', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await get(`/v1/audit/events?limit=10${cursor ? `&cursor=${cursor}` : ''}`, 'tok-a').expect(200);
      seen.push(...res.body.items.map((e: { event_id: string }) => e.event_id));
      cursor = res.body.next_cursor;
      if (pages++ === 0) await insertEvents(db, [makeEvent({ tenant_id: 'tenant-a', occurred_at: new Date().toISOString() })]);
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(aEvents.map((e) => e.event_id).reverse());
    expect((await get('/v1/audit/events?cursor=bogus', 'tok-a')).status).toBe(400);
    expect((await get('/v1/audit/events?status=abc', 'tok-a')).status).toBe(400);
  });

  it('filters by status, decision, route and time', async () => {
    const id = aEvents[3]!.event_id;
    await sql`UPDATE audit_events SET status = 503, decision = jsonb_set(decision, '{allow}', 'false'), route_id = 'pp.x' WHERE event_id = ${id}::uuid`.execute(db);
    for (const q of ['status=503', 'status=5xx', 'decision=deny', 'route=pp.x']) {
      const res = await get(`/v1/audit/events?${q}`, 'tok-a').expect(200);
      expect(res.body.items.map((e: { event_id: string }) => e.event_id)).toEqual([id]);
    }
    const window = await get(`/v1/audit/events?from=${at(30)}&to=${at(36)}`, 'tok-a').expect(200);
    expect(window.body.items.map((e: { event_id: string }) => e.event_id)).toEqual([aEvents[11]!.event_id, aEvents[10]!.event_id]);
  });

  it('returns a trace in causal order', async () => {
    const root = makeEvent({ occurred_at: at(200), correlation_id: 'trace-1' });
    const childLate = makeEvent({ occurred_at: at(203), correlation_id: 'trace-1', causation_id: root.event_id });
    const grandchild = makeEvent({ occurred_at: at(205), correlation_id: 'trace-1', causation_id: root.event_id });
    const child = makeEvent({ occurred_at: at(201), correlation_id: 'trace-1', causation_id: root.event_id });
    const deeper = makeEvent({ occurred_at: at(206), correlation_id: 'trace-1', causation_id: child.event_id });
    await insertEvents(db, [deeper, grandchild, childLate, root, child]);
    const res = await get('/v1/audit/traces/trace-1', 'tok-a').expect(200);
    expect(res.body.events.map((e: { event_id: string; depth: number }) => [e.event_id, e.depth])).toEqual([
      [root.event_id, 0],
      [child.event_id, 1],
      [deeper.event_id, 2],
      [childLate.event_id, 1],
      [grandchild.event_id, 1],
    ]);
    expect((await get('/v1/audit/traces/nothing-here', 'tok-a')).status).toBe(404);
  });

  it('exports JSONL and CSV, streamed in batches, with correct CSV escaping', async () => {
    const tricky = makeEvent({ occurred_at: at(250), correlation_id: 'csv-1', user_agent: 'Mozilla "x", y\nz', path: '=cmd()' });
    await insertEvents(db, [tricky]);
    const from = at(0);
    const to = at(251);
    const jsonl = await get(`/v1/audit/export?format=jsonl&from=${from}&to=${to}`, 'tok-platform').expect(200);
    expect(jsonl.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(36);
    const times = lines.map((l: { occurred_at: string }) => l.occurred_at);
    expect([...times].sort()).toEqual(times);
    expect(new Set(lines.map((l: { event_id: string }) => l.event_id)).size).toBe(lines.length);
    expect(lines[lines.length - 1]).toMatchObject({ event_id: tricky.event_id, user_agent: tricky.user_agent });

    const csv = await get(`/v1/audit/export?format=csv&correlation_id=csv-1`, 'tok-platform').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const [header, row, end] = csv.text.split('\r\n');
    expect(header!.split(',')).toContain('decision_allow');
    expect(end).toBe('');
    expect(row).toContain(`"Mozilla ""x"", y\nz"`);
    expect(row).toContain(`,'=cmd(),`);
    expect(row!.startsWith(`${tricky.event_id},request,`)).toBe(true);
    expect((await get('/v1/audit/export?format=xml', 'tok-platform')).status).toBe(400);
  });

  it('returns details from every read (events, event by id, trace, JSONL; CSV as JSON text)', async () => {
    const details = { decision_log: { decision_id: 'd-x', input: { user: 'ali' }, result: { allow: true, note: 'a,"b"' } } };
    const withDetails = makeEvent({ occurred_at: at(260), correlation_id: 'details-1', category: 'policy_decision', details });
    const without = makeEvent({ occurred_at: at(261), correlation_id: 'details-1', causation_id: withDetails.event_id });
    await insertEvents(db, [withDetails, without]);

    expect((await get(`/v1/audit/events/${withDetails.event_id}`, 'tok-a').expect(200)).body.details).toEqual(details);
    expect((await get(`/v1/audit/events/${without.event_id}`, 'tok-a').expect(200)).body).toHaveProperty('details', null);
    const list = await get('/v1/audit/events?correlation_id=details-1', 'tok-a').expect(200);
    expect(list.body.items.map((e: { details: unknown }) => e.details)).toEqual([null, details]);
    const trace = await get('/v1/audit/traces/details-1', 'tok-a').expect(200);
    expect(trace.body.events.map((e: { details: unknown }) => e.details)).toEqual([details, null]);

    const jsonl = await get('/v1/audit/export?format=jsonl&correlation_id=details-1', 'tok-a').expect(200);
    expect(jsonl.text.trim().split('\n').map((l) => JSON.parse(l).details)).toEqual([details, null]);
    const csv = await get('/v1/audit/export?format=csv&correlation_id=details-1', 'tok-a').expect(200);
    const [header, first, second] = csv.text.split('\r\n');
    expect(header!.split(',').at(-1)).toBe('details');
    const lastField = /,"((?:[^"]|"")*)"$/.exec(first!)?.[1];
    expect(JSON.parse(lastField!.replace(/""/g, '"'))).toEqual(details);
    expect(second!.endsWith(',')).toBe(true);
  });

  it('verifies and publishes the public key', async () => {
    const signer = await loadDigestSigner(db);
    // No grace: the newest hour has just closed, and must be sealed even in the first minute after it.
    await sealClosedIntervals(db, signer, { intervalSeconds: 3600, graceSeconds: 0 });
    const res = await get(`/v1/audit/verify?from=${new Date(t0 - HOUR).toISOString()}&to=${new Date().toISOString()}`, 'tok-platform').expect(200);
    expect(res.body).toMatchObject({ ok: true, bad_signatures: [], broken_chain_links: [] });
    expect(res.body.rows_checked).toBeGreaterThan(30);
    expect((await get('/v1/audit/verify?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'tok-a')).status).toBe(400);
    // A chain head recorded elsewhere is checked when given back as anchor=<digest_no>:<digest_hash>.
    const head = res.body.chain_head as { digest_no: number; digest_hash: string };
    const anchored = await get(`/v1/audit/verify?anchor=${head.digest_no}:${head.digest_hash}`, 'tok-platform').expect(200);
    expect(anchored.body.anchor).toEqual({ digest_no: head.digest_no, digest_hash: head.digest_hash, found: true, matches: true });
    const bad = await get('/v1/audit/verify?anchor=1:not-a-hash', 'tok-platform');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    const keys = await get('/v1/audit/public-key').expect(200);
    expect(keys.body.keys).toEqual([expect.objectContaining({ key_id: signer.keyId, algorithm: 'Ed25519', public_key_pem: signer.publicKeyPem })]);
    expect(JSON.stringify(keys.body)).not.toContain('PRIVATE');
  });
});
