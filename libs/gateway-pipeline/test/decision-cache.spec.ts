import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '@cloud-stack/contracts';
import { RouteSpecSchema } from '@cloud-stack/gateway-routing';
import { ANONYMOUS, authorizeStage, DecisionCache, subjectOf, type GatewayContext, type PolicyClient } from '../src/index';
import { bareExchange, testContext } from './context';

/** A policy that allows everything and records the inputs it was asked about. */
function countingPolicy(): PolicyClient & { inputs: PolicyInput[] } {
  const inputs: PolicyInput[] = [];
  return {
    inputs,
    decide: async (_path, input) => {
      inputs.push(input);
      return { result: { allow: true, reasons: [], policy: 'gateway.authz', obligations: {} }, decisionId: `d-${inputs.length}` };
    },
    describe: async () => ({ mode: 'sidecar', revision: null, modules: [] }),
    check: async () => undefined,
    close: async () => undefined,
  };
}

const answer = { active: true, sub: 'u-1', tenant_id: 't-1', client_id: 'c', roles: ['viewer' as const], token_type: 'Bearer' };
const identity = { introspect: async () => answer };

function contextOf(route: ReturnType<typeof RouteSpecSchema.parse>, subject: GatewayContext['subject'], path: string, method = 'GET'): GatewayContext {
  const { req, res } = bareExchange(method);
  return testContext({ req, res, route, subject, path });
}

describe('the decision cache', () => {
  it('gives one subject object per introspection answer, frozen', async () => {
    const a = await subjectOf(identity, 'Bearer t');
    const b = await subjectOf(identity, 'Bearer t');
    expect(a).toBe(b);
    expect(Object.isFrozen(a) && Object.isFrozen(a!.roles)).toBe(true);
    expect(a).toMatchObject({ sub: 'u-1', tenant_id: 't-1', roles: ['viewer'], authenticated: true });
  });

  it('asks the policy again whenever any part of the input differs: route, subject, method, host, path', async () => {
    const policy = countingPolicy();
    const stage = authorizeStage({ policy, cache: new DecisionCache(60_000), reasonsVisibleTo: [] });
    const route = RouteSpecSchema.parse({ id: 'r', path: '/x/{id}', upstream: 'http://127.0.0.1:1', permission: 'agent:read' });
    const sameIdChanged = RouteSpecSchema.parse({ id: 'r', path: '/x/{id}', upstream: 'http://127.0.0.1:1', permission: 'agent:write' });
    const subject = (await subjectOf(identity, 'Bearer t'))!;
    const other = { ...subject, roles: ['admin' as const] };
    const run = (r: typeof route, s: GatewayContext['subject'], path: string, method?: string) => stage.build(r)!(contextOf(r, s, path, method));

    await run(route, subject, '/x/1');
    await run(route, subject, '/x/1');
    expect(policy.inputs).toHaveLength(1);
    await run(route, subject, '/x/2');
    await run(route, subject, '/x/1', 'HEAD');
    await run(route, other, '/x/1');
    await run(route, ANONYMOUS, '/x/1');
    await run(sameIdChanged, subject, '/x/1');
    expect(policy.inputs.map((i) => [i.request.method, i.request.path, i.route.permission, i.subject.roles.join()])).toEqual([
      ['GET', '/x/1', 'agent:read', 'viewer'],
      ['GET', '/x/2', 'agent:read', 'viewer'],
      ['HEAD', '/x/1', 'agent:read', 'viewer'],
      ['GET', '/x/1', 'agent:read', 'admin'],
      ['GET', '/x/1', 'agent:read', ''],
      ['GET', '/x/1', 'agent:write', 'viewer'],
    ]);
  });
});
