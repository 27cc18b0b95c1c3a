import { describe, expect, it } from 'vitest';
import { compileRoutes, RouteSpecSchema, type Route, type RouteMatch, type RouteSpec } from '../src/index';

const route = (spec: Partial<RouteSpec> & { id: string; path: string }): Route =>
  RouteSpecSchema.parse({ upstream: 'http://upstream.test', ...spec });

const idOf = (m: RouteMatch) => (m.kind === 'route' ? m.route.id : m.kind);

describe('compileRoutes: paths', () => {
  const matcher = compileRoutes(
    [
      route({ id: 'agents.execute', path: '/api/agents/{id}/execute', methods: ['POST'] }),
      route({ id: 'agents.new', path: '/api/agents/new/execute', methods: ['POST'] }),
      route({ id: 'agents.get', path: '/api/agents/{id}', methods: ['GET'] }),
      route({ id: 'agents.any', path: '/api/agents/*' }),
      route({ id: 'root', path: '/' }),
      route({ id: 'files', path: '/files/{name}' }),
      route({ id: 'files.rest', path: '/files/*' }),
    ],
    7,
  );

  it('captures and decodes path parameters', () => {
    expect(matcher.match('POST', 'x.test', '/api/agents/a%20b/execute')).toEqual({
      kind: 'route',
      route: expect.objectContaining({ id: 'agents.execute' }),
      version: 7,
      params: { id: 'a b' },
    });
  });

  it('prefers a literal segment over a parameter, and a parameter over a trailing /*', () => {
    expect(idOf(matcher.match('POST', '', '/api/agents/new/execute'))).toBe('agents.new');
    expect(idOf(matcher.match('GET', '', '/api/agents/42'))).toBe('agents.get');
    expect(idOf(matcher.match('GET', '', '/api/agents/42/logs/today'))).toBe('agents.any');
  });

  it('lets a trailing /* match its prefix itself and a trailing slash', () => {
    expect(idOf(matcher.match('GET', '', '/api/agents'))).toBe('agents.any');
    expect(idOf(matcher.match('GET', '', '/api/agents/'))).toBe('agents.any');
  });

  it('falls back to a less specific shape when the specific one lacks the method', () => {
    // agents.new only has POST on .../execute; DELETE on /api/agents/42 goes to the any-method /*.
    expect(idOf(matcher.match('DELETE', '', '/api/agents/42'))).toBe('agents.any');
  });

  it('matches the root path', () => {
    expect(idOf(matcher.match('GET', '', '/'))).toBe('root');
    expect(idOf(matcher.match('GET', '', '/nothing'))).toBe('none');
  });

  it('ignores the query string', () => {
    expect(matcher.match('GET', '', '/files/report.pdf?download=1')).toMatchObject({ params: { name: 'report.pdf' } });
  });

  it('never lets a parameter hold a slash, a backslash, a dot segment or a bad escape', () => {
    for (const bad of ['/files/a%2Fb', '/files/a%5Cb', '/files/%2e%2e', '/files/..', '/files/%E0%A4%A']) {
      const m = matcher.match('GET', '', bad);
      // The trailing /* still takes the encoded slash (the pipeline decides about such paths), never {name}.
      expect(idOf(m), bad).not.toBe('files');
    }
    expect(idOf(matcher.match('GET', '', '/files/../etc/passwd'))).toBe('none');
    expect(idOf(matcher.match('GET', '', '/files/a/./b'))).toBe('none');
  });

  it('does not match an empty segment with a parameter', () => {
    expect(idOf(matcher.match('GET', '', '/api/agents//execute'))).toBe('agents.any');
    expect(idOf(matcher.match('POST', '', '/api/agents//execute'))).toBe('agents.any');
  });

  it('rejects a path that does not start with a slash', () => {
    expect(idOf(matcher.match('GET', '', 'files/a'))).toBe('none');
  });
});

describe('compileRoutes: methods', () => {
  const matcher = compileRoutes([
    route({ id: 'b.get', path: '/items/{id}', methods: ['GET'] }),
    route({ id: 'a.put', path: '/items/{item}', methods: ['PUT', 'PATCH'] }),
    route({ id: 'z.any', path: '/things' }),
    route({ id: 'a.post', path: '/things', methods: ['POST'] }),
    route({ id: 'c.head', path: '/head', methods: ['HEAD'] }),
    route({ id: 'b.get-head', path: '/head', methods: ['GET'] }),
  ]);

  it('answers method_not_allowed with the methods the path accepts', () => {
    expect(matcher.match('DELETE', '', '/items/1')).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD', 'PUT', 'PATCH'] });
  });

  it('uses each route its own parameter names', () => {
    expect(matcher.match('PATCH', '', '/items/9')).toMatchObject({ route: { id: 'a.put' }, params: { item: '9' } });
    expect(matcher.match('GET', '', '/items/9')).toMatchObject({ route: { id: 'b.get' }, params: { id: '9' } });
  });

  it('prefers an exact method over an any-method route', () => {
    expect(idOf(matcher.match('POST', '', '/things'))).toBe('a.post');
    expect(idOf(matcher.match('GET', '', '/things'))).toBe('z.any');
    expect(idOf(matcher.match('TRACE', '', '/things'))).toBe('z.any');
  });

  it('serves HEAD from a GET route unless a route lists HEAD itself', () => {
    expect(idOf(matcher.match('HEAD', '', '/items/1'))).toBe('b.get');
    expect(idOf(matcher.match('HEAD', '', '/head'))).toBe('c.head');
  });

  it('breaks a tie between routes of the same shape and method by route id', () => {
    const tie = compileRoutes([route({ id: 'zeta', path: '/x/{a}' }), route({ id: 'alpha', path: '/x/{b}' })]);
    const reversed = compileRoutes([route({ id: 'alpha', path: '/x/{b}' }), route({ id: 'zeta', path: '/x/{a}' })]);
    expect(idOf(tie.match('GET', '', '/x/1'))).toBe('alpha');
    expect(idOf(reversed.match('GET', '', '/x/1'))).toBe('alpha');
  });
});

describe('compileRoutes: hosts', () => {
  const matcher = compileRoutes([
    route({ id: 'exact', path: '/p', hosts: ['api.example.com'] }),
    route({ id: 'wild', path: '/p', hosts: ['*.example.com'] }),
    route({ id: 'wild.deep', path: '/p', hosts: ['*.eu.example.com'] }),
    route({ id: 'any', path: '/p' }),
    route({ id: 'only.exact', path: '/q', hosts: ['api.example.com'] }),
    route({ id: 'any.r', path: '/r' }),
    route({ id: 'ported', path: '/p', hosts: ['api.example.com:8443'] }),
  ]);

  it('prefers an exact host over a wildcard over any host', () => {
    expect(idOf(matcher.match('GET', 'api.example.com', '/p'))).toBe('exact');
    expect(idOf(matcher.match('GET', 'web.example.com', '/p'))).toBe('wild');
    expect(idOf(matcher.match('GET', 'other.test', '/p'))).toBe('any');
  });

  it('lets a wildcard cover several labels, the longest suffix first, but not the bare domain', () => {
    expect(idOf(matcher.match('GET', 'a.b.example.com', '/p'))).toBe('wild');
    expect(idOf(matcher.match('GET', 'a.eu.example.com', '/p'))).toBe('wild.deep');
    expect(idOf(matcher.match('GET', 'example.com', '/p'))).toBe('any');
  });

  it('compares hosts without case, trailing dot or port', () => {
    expect(idOf(matcher.match('GET', 'API.Example.COM.', '/p'))).toBe('exact');
    expect(idOf(matcher.match('GET', 'api.example.com:8080', '/p'))).toBe('exact');
    expect(idOf(matcher.match('GET', 'WEB.example.com:80', '/p'))).toBe('wild');
  });

  it('honours the port when the pattern names one', () => {
    expect(idOf(matcher.match('GET', 'api.example.com:8443', '/p'))).toBe('ported');
  });

  it('keeps answering per host past the bound of its host cache', () => {
    for (let i = 0; i < 3000; i++) expect(idOf(matcher.match('GET', `h${i}.example.com`, '/p'))).toBe('wild');
    expect(idOf(matcher.match('GET', 'api.example.com', '/p'))).toBe('exact');
    expect(idOf(matcher.match('GET', `${'a'.repeat(300)}.example.com`, '/p'))).toBe('wild');
  });

  it('falls through to less specific hosts when the specific one has no such path', () => {
    expect(idOf(matcher.match('GET', 'api.example.com', '/r'))).toBe('any.r');
    expect(idOf(matcher.match('GET', 'web.example.com', '/q'))).toBe('none');
    expect(idOf(matcher.match('GET', '[::1]:8080', '/p'))).toBe('any');
  });
});

describe('RouteSpecSchema refinements', () => {
  const issues = (spec: Record<string, unknown>) =>
    RouteSpecSchema.safeParse({ id: 'r', path: '/a', upstream: 'http://u.test', ...spec }).error?.issues.map((i) => i.path.join('.')) ?? [];

  it('rejects a strip_prefix the path does not start with', () => {
    expect(issues({ path: '/api/a', strip_prefix: '/api' })).toEqual([]);
    expect(issues({ path: '/apix/a', strip_prefix: '/api' })).toEqual(['strip_prefix']);
  });

  it('rejects repeated methods and parameter names', () => {
    expect(issues({ methods: ['GET', 'GET'] })).toEqual(['methods.1']);
    expect(issues({ path: '/a/{id}/{id}' })).toEqual(['path']);
  });
});
