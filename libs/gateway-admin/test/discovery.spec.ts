import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { useTestDatabase } from '@cloud-stack/test-kit';
import { createRouteDiscovery, readOpenApi } from '../src/index';
import { logger, startHarness, type Harness } from './harness';
import { AGENTS_OPENAPI, serveDocuments } from './openapi-server';

const database = useTestDatabase('gw_admin_discovery');
let h: Harness;
let backend: Awaited<ReturnType<typeof serveDocuments>>;
let live: number;

const BASE = '/__gateway/admin';
const admin = { authorization: 'Bearer admin' };

beforeAll(async () => {
  backend = await serveDocuments({ '/svc/openapi.json': AGENTS_OPENAPI });
  h = await startHarness(database.url, (store) => createRouteDiscovery({ store, logger }));
  const draft = await h.store.createDraft({
    routes: [
      {
        id: 'agents.get',
        product: 'agents',
        hosts: ['api.example.com'],
        path: '/api/agents/{id}',
        methods: ['GET'],
        upstream: `${backend.url}/svc`,
        strip_prefix: '/api',
        permission: 'agent:read',
        timeout_ms: 2000,
      },
      { id: 'forge.all', product: 'forge', path: '/forge/*', upstream: `${backend.url}/missing` },
    ],
  });
  await h.store.activate(draft.version);
  await h.table.reload();
  live = draft.version;
});
afterAll(async () => {
  await h.close();
  await backend.close();
});

describe('readOpenApi', () => {
  it('lists each path with its methods and the x-permission its operations agree on', () => {
    expect(readOpenApi(AGENTS_OPENAPI)).toEqual([
      { path: '/agents', methods: ['GET'], permission: null },
      { path: '/agents/{agentId}', methods: ['GET', 'DELETE'], permission: null },
      { path: '/agents/{agentId}/execute', methods: ['POST'], permission: 'agent:execute' },
      { path: '/files/{name}.json', methods: ['GET'], permission: null },
    ]);
  });

  it('refuses a Swagger 2 document', () => {
    expect(() => readOpenApi({ swagger: '2.0', paths: {} })).toThrow(/OpenAPI 3/);
  });
});

describe('route discovery', () => {
  it('proposes the missing routes as a draft and leaves the live version alone', async () => {
    const res = await request(h.app).post(`${BASE}/discovery/run`).set(admin).set('x-correlation-id', 'discover-1').expect(200);
    const result = res.body;
    expect(result).toMatchObject({ live_version: live, created: true, proposal: { status: 'draft', source: 'discovery', parent_version: live } });
    expect(result.proposal.note).toMatch(/^discovery against version \d+: \+3 -0 ~0/);
    const added = Object.fromEntries(result.added.map((r: { path: string; methods: string[] }) => [r.path, r]));
    expect(Object.keys(added).sort()).toEqual(['/api/agents', '/api/agents/{agentId}', '/api/agents/{agentId}/execute']);
    // Only the methods the live route lacks; settings from the product's route; x-permission wins.
    expect(added['/api/agents/{agentId}']).toMatchObject({ methods: ['DELETE'], permission: 'agent:read', hosts: ['api.example.com'], strip_prefix: '/api', timeout_ms: 2000, product: 'agents' });
    expect(added['/api/agents/{agentId}/execute']).toMatchObject({ methods: ['POST'], permission: 'agent:execute', id: 'agents.agents.agentId.execute' });

    const agents = result.backends.find((b: { product: string }) => b.product === 'agents');
    expect(agents).toMatchObject({ ok: true, operations: 5, skipped: [{ path: '/files/{name}.json', reason: expect.stringMatching(/^path:/) }] });
    expect(result.backends.find((b: { product: string }) => b.product === 'forge')).toMatchObject({ ok: false, error: 'HTTP 404' });

    expect(h.table.version()).toBe(live);
    expect((await h.store.getActive())!.version).toBe(live);
    expect(h.audit.find((e) => e.correlation_id === 'discover-1')?.details).toMatchObject({ action: 'discovery.run', created: true });
  });

  it('does not draft the same proposal twice', async () => {
    const first = await request(h.app).get(`${BASE}/discovery/proposals`).set(admin).expect(200);
    expect(first.body.proposals).toHaveLength(1);
    const again = await request(h.app).post(`${BASE}/discovery/run`).set(admin).expect(200);
    expect(again.body).toMatchObject({ created: false, proposal: { version: first.body.proposals[0].version } });
    const after = await request(h.app).get(`${BASE}/discovery/proposals`).set(admin).expect(200);
    expect(after.body.proposals).toHaveLength(1);
    expect(after.body.proposals[0].added).toHaveLength(3);
  });

  it('proposes nothing once an admin has activated the proposal', async () => {
    const [proposal] = (await request(h.app).get(`${BASE}/discovery/proposals`).set(admin).expect(200)).body.proposals;
    await request(h.app).post(`${BASE}/versions/${proposal.version}/activate`).set(admin).expect(200);
    expect(h.table.match('POST', 'api.example.com', '/api/agents/a1/execute')).toMatchObject({ kind: 'route', params: { agentId: 'a1' } });
    const res = await request(h.app).post(`${BASE}/discovery/run`).set(admin).expect(200);
    expect(res.body).toMatchObject({ proposal: null, created: false, added: [] });
    expect((await request(h.app).get(`${BASE}/discovery/proposals`).set(admin).expect(200)).body.proposals).toEqual([]);
  });
});
