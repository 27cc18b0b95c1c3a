import { describe, expect, it } from 'vitest';
import { parseRouteFile, RouteValidationError } from '../src/index';

const YAML_FILE = `
products:
  - name: platformforge
    upstream: http://platformforge:8080
    sandbox_upstream: http://platformforge-sandbox:8080
    hosts: [platformforge.example, "*.platformforge.example"]
    defaults:
      permission: "forge:use"
      rate_limit: { per_minute: 60, per_hour: 1000 }
    routes:
      - { id: forge.projects, path: /projects, methods: [GET, POST] }
      - { id: forge.health, path: /health, permission: "", stages: [audit] }
  - name: agents
    upstream: http://agents:3000/v1
    routes:
      - id: agents.execute
        path: /api/v1/agents/{id}/execute
        methods: [POST]
        permission: agent:execute
        strip_prefix: /api/v1
        cost: 1
`;

function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    parseRouteFile(doc);
  } catch (err) {
    if (err instanceof RouteValidationError) return [...err.issues];
    throw err;
  }
  return expect.unreachable('expected validation issues');
}

describe('parseRouteFile', () => {
  it('fills route fields from the route, then the product defaults, then the product', () => {
    const routes = parseRouteFile(YAML_FILE);
    expect(routes.map((r) => r.id)).toEqual(['forge.projects', 'forge.health', 'agents.execute']);
    expect(routes[0]).toMatchObject({
      product: 'platformforge',
      hosts: ['platformforge.example', '*.platformforge.example'],
      upstream: 'http://platformforge:8080',
      sandbox_upstream: 'http://platformforge-sandbox:8080',
      permission: 'forge:use',
      rate_limit: { per_minute: 60, per_hour: 1000 },
    });
    expect(routes[1]).toMatchObject({ permission: '', stages: ['audit'] });
    expect(routes[2]).toMatchObject({ product: 'agents', hosts: [], strip_prefix: '/api/v1', cost: 1, permission: 'agent:execute', sandbox_upstream: null });
  });

  it('reads JSON the same way', () => {
    const json = JSON.stringify({ products: [{ name: 'p', upstream: 'http://p.test', routes: [{ id: 'p.a', path: '/a' }] }] });
    expect(parseRouteFile(json)[0]).toMatchObject({ id: 'p.a', product: 'p' });
  });

  it('places each problem where it is written: the route, the defaults or the product', () => {
    const issues = issuesOf({
      products: [
        {
          name: 'p',
          upstream: 'ftp://nope',
          defaults: { timeout_ms: -1 },
          routes: [{ id: 'a', path: '/a/{x}/{x}' }, { id: 'b', path: '/b', product: 'other' }],
        },
        { name: 'q', upstream: 'http://q.test', routes: [{ id: 'a', path: '/a' }, { id: 'a', path: '/a2' }] },
        { name: 'r', routes: [] },
      ],
    }).map((i) => i.path);
    // A product-level problem is reported once, not once per route.
    expect(issues.filter((p) => p === 'products[0].upstream')).toHaveLength(1);
    expect(issues).toEqual(
      expect.arrayContaining([
        'products[0].upstream',
        'products[0].defaults.timeout_ms',
        'products[0].routes[0].path',
        'products[0].routes[1].product',
        'products[1].routes[1].id',
        'products[2].upstream',
        'products[2].routes',
      ]),
    );
  });

  it('names the line of a YAML syntax error', () => {
    const [issue] = issuesOf('products: [ {name: x');
    expect(issue!.path).toBe('');
    expect(issue!.message).toMatch(/^not YAML or JSON/);
  });

  it('rejects a document without products', () => {
    expect(issuesOf({ routes: [] }).map((i) => i.path)).toEqual(expect.arrayContaining(['products']));
  });
});
