import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { POLICY_DECISION_PATH, PolicyResultSchema, type PolicyInput, type PolicyResult } from '@cloud-stack/contracts';
import type { PolicySidecarApp } from '../../../src/app';
import { INFRA_POLICIES, sidecar } from '../../support/sidecar';
import { gatewayInput } from '../../support/gateway-input';

const PATH = `/v1/data/${POLICY_DECISION_PATH.join('/')}`;

describe('the gateway decision through HTTP (infra/policies)', () => {
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: INFRA_POLICIES });
  });
  afterAll(async () => {
    await sc.close();
  });

  async function decide(input: PolicyInput): Promise<PolicyResult> {
    const res = await request(sc.app).post(PATH).send({ input });
    expect(res.status).toBe(200);
    return PolicyResultSchema.parse(res.body.result);
  }

  it('allows a role that holds the permission, naming why', async () => {
    const d = await decide(gatewayInput({ route: { permission: 'agent:create' } }));
    expect(d).toEqual({ allow: true, reasons: ['role developer grants agent:create'], obligations: { route_to: 'primary' }, policy: 'gateway.authz' });
  });

  it('denies a role below the permission', async () => {
    const d = await decide(gatewayInput({ route: { permission: 'billing:approve' } }));
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual(['permission billing:approve is not granted to roles [developer]']);
  });

  it('denies a governor route to a non-governor and allows it to a governor', async () => {
    const route = { permission: 'route:admin', requires_governor: true };
    const denied = await decide(gatewayInput({ route, subject: { roles: ['admin'] } }));
    expect(denied.allow).toBe(false);
    expect(denied.reasons).toEqual(['governor required: this route requires a governor']);
    const allowed = await decide(gatewayInput({ route, subject: { roles: ['admin'], is_governor: true } }));
    expect(allowed.allow).toBe(true);
  });

  it('sends a trial subject’s execute to the sandbox', async () => {
    const d = await decide(gatewayInput({ route: { permission: 'agent:execute', cost: 1 }, subject: { roles: ['customer'], trial_mode: true } }));
    expect(d.allow).toBe(true);
    expect(d.obligations).toEqual({ route_to: 'sandbox' });
  });

  it('denies when monthly spend plus the request’s cost exceeds the cap', async () => {
    const d = await decide(gatewayInput({ route: { permission: 'agent:execute', cost: 5 }, budget: { monthly_spend: 97, cap: 100 } }));
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual(['budget cap exceeded: monthly spend 97 + cost 5 > cap 100']);
  });

  it('denies an unauthenticated subject', async () => {
    const d = await decide(gatewayInput({ subject: { authenticated: false, sub: null, roles: [] } }));
    expect(d).toMatchObject({ allow: false, reasons: ['unauthenticated: this route requires a valid token'] });
  });
});
