import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRouteFile } from '@cloud-stack/gateway-routing';
import { DEMO_UPSTREAMS } from '../src/demo-upstreams';
import { ROOT } from '../src/stack';

const routes = parseRouteFile(readFileSync(resolve(ROOT, 'infra/gateway/demo-routes.yaml'), 'utf8'));
const byId = new Map(routes.map((r) => [r.id, r]));

describe('infra/gateway/demo-routes.yaml', () => {
  it('sends every product to a demo upstream npm start runs (or to the audit-writer)', () => {
    const served = new Set(DEMO_UPSTREAMS.map((u) => `http://127.0.0.1:${u.port}`));
    for (const r of routes) {
      for (const url of [r.upstream, r.sandbox_upstream].filter((u): u is string => u !== null)) {
        expect(served.has(new URL(url).origin) || new URL(url).origin === 'http://127.0.0.1:8010', `${r.id} → ${url}`).toBe(true);
      }
    }
  });

  it("holds the platform's routing table", () => {
    expect(byId.get('agents.list')).toMatchObject({ path: '/api/v1/agents', methods: ['GET'] });
    expect(byId.get('agents.create')).toMatchObject({ path: '/api/v1/agents', methods: ['POST'], requires_governor: true });
    expect(byId.get('agents.execute')).toMatchObject({ path: '/api/agents/{id}/execute', sandbox_upstream: 'http://127.0.0.1:9104' });
    expect(byId.get('agents.execute')!.cost).toBeGreaterThan(0);
    expect(byId.get('governor.approve')).toMatchObject({ path: '/api/governor/approve', requires_governor: true });
    expect(byId.get('admin.area')).toMatchObject({ path: '/api/admin/*', upstream: 'http://127.0.0.1:9102' });
    expect(byId.get('forge.all')!.hosts).toContain('forge.localhost');
    expect(byId.get('audit.trace')).toMatchObject({ permission: 'audit:read', strip_prefix: '/api/audit' });
  });
});
