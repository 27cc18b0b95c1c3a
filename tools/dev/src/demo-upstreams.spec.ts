import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstreams, type RunningUpstreams } from './demo-upstreams';

const SECRET = 'spec-signing-secret';
let upstreams: RunningUpstreams;

beforeAll(async () => {
  upstreams = await startDemoUpstreams(SECRET, { anyPort: true });
});
afterAll(() => upstreams.close());

const identity = {
  'x-user-id': 'u-1',
  'x-tenant-id': 'acme',
  'x-client-id': 'console',
  'x-user-roles': 'customer',
  'x-agent-id': 'agent-trial-001',
  'x-trial-mode': 'true',
  'x-is-governor': 'false',
  'x-correlation-id': 'corr-1',
};

/** X-Gateway-Signature as the gateway documents it: HMAC-SHA256 over t, method, path and the identity headers. */
function sign(method: string, path: string, secret = SECRET): string {
  const t = String(Math.floor(Date.now() / 1000));
  const h: Record<string, string> = identity;
  const text = [t, method, path, h['x-user-id'], h['x-tenant-id'], h['x-client-id'], h['x-user-roles'], h['x-agent-id'], h['x-trial-mode'], h['x-is-governor'], h['x-correlation-id']].join('\n');
  return `t=${t},v1=${createHmac('sha256', secret).update(text).digest('hex')}`;
}

async function post(name: string, path: string, headers: Record<string, string>) {
  const res = await fetch(`${upstreams.urls[name]}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"input":"hi"}' });
  return { status: res.status, body: (await res.json()) as { service: string; environment: string; received: Record<string, string | null>; result: Record<string, unknown> } };
}

describe('demo upstreams', () => {
  it('the sandbox marks its answers and shows the identity the gateway sent, with a valid signature', async () => {
    const path = '/api/agents/agent-trial-001/execute';
    const { status, body } = await post('agents-sandbox', path, { ...identity, 'x-gateway-signature': sign('POST', path) });
    expect(status).toBe(200);
    expect(body).toMatchObject({ service: 'agents-sandbox', environment: 'sandbox', result: { agent_id: 'agent-trial-001', input: { input: 'hi' } } });
    expect(body.received).toMatchObject({ user_id: 'u-1', tenant_id: 'acme', agent_id: 'agent-trial-001', trial_mode: 'true', correlation_id: 'corr-1', gateway_signature: 'valid' });
  });

  it('the primary agent backend answers as production', async () => {
    const { body } = await post('agents', '/api/agents/agent-prod-001/execute', identity);
    expect(body).toMatchObject({ service: 'agents', environment: 'production' });
  });

  it('tells a request signed with another secret, and an unsigned one, from a signed one', async () => {
    const path = '/api/governor/approve';
    const forged = await post('agents', path, { ...identity, 'x-gateway-signature': sign('POST', path, 'not-the-secret') });
    const unsigned = await post('agents', path, identity);
    expect(forged.body.received.gateway_signature).toBe('invalid');
    expect(unsigned.body.received.gateway_signature).toBe('absent');
  });

  it('publishes an OpenAPI document listing an operation the demo routes leave out', async () => {
    const doc = (await (await fetch(`${upstreams.urls.agents}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/agents', '/api/agents/{id}/execute', '/api/agents/{id}/runs', '/api/governor/approve']));
    expect(Object.keys(doc.paths['/api/v1/agents']!)).toEqual(['get', 'post']);
  });

  it('answers its health probe', async () => {
    for (const url of Object.values(upstreams.urls)) expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
