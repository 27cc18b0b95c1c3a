import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

const stack = useGatewayStack({ routes: demoRoutes });

async function admin(method: string, path: string, token: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${stack.gatewayUrl}/__gateway/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> & { version?: number } };
}

describe('admin API through the gateway', () => {
  it('needs a token, route:read to look and route:admin to change anything (decided by the policy)', async () => {
    expect((await fetch(`${stack.gatewayUrl}/__gateway/admin/routes`)).status).toBe(401);
    const customer = await stack.token('customer@acme.example');
    expect((await admin('GET', '/routes', customer)).status).toBe(403);
    const viewer = await stack.token('viewer@cloudstack.example');
    expect((await admin('GET', '/routes', viewer)).status).toBe(200);
    expect((await admin('POST', '/versions', viewer, {})).status).toBe(403);
    const operator = await stack.token('operator@cloudstack.example');
    expect((await admin('GET', '/routes', operator)).status).toBe(200);
    expect((await admin('POST', '/versions', operator, {})).status).toBe(403);
  });

  it('applies a route file as a draft, activates it live, and rolls back in one call', async () => {
    const token = await stack.token('admin@cloudstack.example');
    const live = stack.gateway.table.version();
    const file = [
      'products:',
      '  - name: extra',
      `    upstream: ${stack.primary.url}`,
      '    routes:',
      '      - id: extra.hello',
      "        path: '/hello/{name}'",
      '        methods: [GET]',
      '        permission: agent:read',
    ].join('\n');
    const applied = await admin('POST', '/apply?activate=true', token, file, 'application/yaml');
    expect(applied.status, JSON.stringify(applied.body)).toBeLessThan(300);
    const viewer = await stack.token('viewer@cloudstack.example');
    const hello = await fetch(`${stack.gatewayUrl}/hello/world`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(hello.status).toBe(200);
    expect(((await hello.json()) as { url: string }).url).toBe('/hello/world');
    expect((await admin('POST', '/rollback', token)).status).toBe(200);
    expect(stack.gateway.table.version()).toBe(live);
    expect((await fetch(`${stack.gatewayUrl}/hello/world`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(404);
    // Every change was recorded as an admin event, with who did it.
    const events = (await stack.auditEvents()).filter((e) => e.category === 'admin' && e.path?.startsWith('/__gateway/admin'));
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(expect.arrayContaining(['POST 403', 'POST 200']));
    expect(events.some((e) => e.user_id !== null && e.tenant_id === 'platform')).toBe(true);
  });

  it('shows field errors of an invalid route next to their fields', async () => {
    const token = await stack.token('admin@cloudstack.example');
    const draft = await admin('POST', '/versions', token, {});
    expect(draft.status).toBe(201);
    const bad = await admin('PUT', `/versions/${draft.body.version}/routes/bad`, token, { id: 'bad', path: '/x/../y', upstream: 'ftp://nope', permision: 'x' });
    expect(bad.status).toBe(422);
    const paths = (bad.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['path', 'upstream']));
  });

  it("proposes the routes a backend's OpenAPI document lists and the live version lacks", async () => {
    const token = await stack.token('admin@cloudstack.example');
    const run = await admin('POST', '/discovery/run', token);
    expect(run.status).toBeLessThan(300);
    const proposals = await admin('GET', '/discovery/proposals', token);
    expect(proposals.status).toBe(200);
    const list = proposals.body as unknown as Array<{ added: Array<{ path: string; methods: string[] }> }>;
    const added = (Array.isArray(list) ? list : ((proposals.body.proposals as typeof list) ?? [])).flatMap((p) => p.added);
    expect(added.map((r) => r.path), JSON.stringify({ run: run.body, proposals: proposals.body })).toContain('/reports/{reportId}');
    // Nothing went live.
    const viewer = await stack.token('viewer@cloudstack.example');
    expect((await fetch(`${stack.gatewayUrl}/reports/r1`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(404);
  });
});
