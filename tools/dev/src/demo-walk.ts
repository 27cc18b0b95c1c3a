/**
 * The demo's walk through the gateway: real HTTP requests to :8080 with real tokens, each checked
 * against the status it should get. The same requests are printed as curl commands afterwards,
 * so every command shown has just been run.
 */
import { request as httpRequest } from 'node:http';

/** A demo user and the shell variable its token is exported as. */
export interface DemoUser {
  readonly variable: string;
  readonly email: string;
  readonly password: string;
  readonly note: string;
}

export const DEMO_USERS = {
  customer: { variable: 'CUSTOMER', email: 'customer@acme.example', password: 'demo-customer-pass', note: 'trial customer of acme, agent agent-trial-001' },
  buyer: { variable: 'BUYER', email: 'buyer@acme.example', password: 'demo-buyer-pass', note: 'paying customer of acme, agent agent-prod-001' },
  governor: { variable: 'GOVERNOR', email: 'governor@cloudstack.example', password: 'demo-governor-pass', note: 'platform operator and governor' },
  admin: { variable: 'ADMIN', email: 'admin@cloudstack.example', password: 'demo-admin-pass', note: 'platform admin (not a governor)' },
} as const satisfies Record<string, DemoUser>;

export type DemoUserKey = keyof typeof DEMO_USERS;

/** The monthly caps `npm start` sets (gateway CLI `budget`); agents.execute costs 10. */
export const DEMO_BUDGETS = { trial: { agent: 'agent-trial-001', cap: 1000 }, paying: { agent: 'agent-prod-001', cap: 10 } } as const;

export interface Step {
  readonly title: string;
  readonly user?: DemoUserKey;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly host?: string;
  readonly body?: unknown;
  readonly expect: number;
  /** Shown as a curl command at the end. */
  readonly print: boolean;
}

export interface StepResult {
  readonly step: Step;
  readonly status: number;
  readonly body: unknown;
  readonly correlationId: string | null;
}

export interface Walk {
  readonly gatewayUrl: string;
  readonly tokens: Record<DemoUserKey, string>;
}

const execute = (agent: string) => `/api/agents/${agent}/execute`;

/** The walk, in order; the paying agent's second execution is the one its budget refuses. */
export const STEPS: readonly Step[] = [
  { title: 'trial customer lists agents (primary agent backend)', user: 'customer', method: 'GET', path: '/api/v1/agents', expect: 200, print: true },
  {
    title: "trial customer executes its agent: the policy obliges route_to sandbox, the request lands in the sandbox",
    user: 'customer',
    method: 'POST',
    path: execute(DEMO_BUDGETS.trial.agent),
    body: { input: 'hello' },
    expect: 200,
    print: true,
  },
  { title: 'paying customer executes its agent: production, costs 10 of its cap of 10', user: 'buyer', method: 'POST', path: execute(DEMO_BUDGETS.paying.agent), body: { input: 'hello' }, expect: 200, print: false },
  { title: "paying customer executes again: refused, the month's budget is spent", user: 'buyer', method: 'POST', path: execute(DEMO_BUDGETS.paying.agent), body: { input: 'hello' }, expect: 402, print: true },
  { title: 'platform admin creates an agent: refused, creating agents is for governors', user: 'admin', method: 'POST', path: '/api/v1/agents', body: { name: 'demo-agent' }, expect: 403, print: true },
  { title: 'governor creates an agent', user: 'governor', method: 'POST', path: '/api/v1/agents', body: { name: 'demo-agent' }, expect: 201, print: true },
  { title: 'governor approves a deployment', user: 'governor', method: 'POST', path: '/api/governor/approve', body: { agent_id: DEMO_BUDGETS.paying.agent }, expect: 200, print: true },
  { title: 'platform admin calls the platform portal API', user: 'admin', method: 'GET', path: '/api/admin/tenants', expect: 200, print: true },
  { title: 'trial customer calls the platform portal API: refused', user: 'customer', method: 'GET', path: '/api/admin/tenants', expect: 403, print: false },
  { title: 'trial customer calls the customer portal API', user: 'customer', method: 'GET', path: '/api/portal/account', expect: 200, print: true },
  { title: 'host-routed product (Host: forge.localhost)', user: 'customer', method: 'GET', path: '/projects', host: 'forge.localhost', expect: 200, print: true },
  { title: 'no token: refused', method: 'GET', path: '/api/v1/agents', expect: 401, print: true },
];

export async function runStep(walk: Walk, step: Step): Promise<StepResult> {
  const headers: Record<string, string> = {};
  if (step.user) headers.authorization = `Bearer ${walk.tokens[step.user]}`;
  if (step.host) headers.host = step.host;
  if (step.body !== undefined) headers['content-type'] = 'application/json';
  // fetch() does not let a caller set Host; node:http does.
  const { status, text, correlationId } = await request(`${walk.gatewayUrl}${step.path}`, step.method, headers, step.body === undefined ? undefined : JSON.stringify(step.body));
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { step, status, body, correlationId };
}

async function request(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; text: string; correlationId: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const cid = res.headers['x-correlation-id'];
        resolve({ status: res.statusCode ?? 0, text, correlationId: typeof cid === 'string' ? cid : null });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** One line saying where a request went and what came back. */
export function describe(result: StepResult): string {
  const b = result.body as Record<string, unknown> | null;
  if (b && typeof b === 'object' && 'service' in b) {
    const received = b.received as Record<string, unknown>;
    return `${String(b.service)} (${String(b.environment)}) saw user ${String(received.user_id)}, tenant ${String(received.tenant_id)}, agent ${String(received.agent_id)}, trial ${String(received.trial_mode)}, signature ${String(received.gateway_signature)}`;
  }
  if (b && typeof b === 'object' && 'detail' in b) return `${String(b.title ?? '')}: ${String(b.detail)}`;
  return JSON.stringify(b).slice(0, 160);
}

/** Polls the audit trail of `correlationId` through the gateway until its event has been written. */
export async function auditTrail(walk: Walk, correlationId: string, timeoutMs = 20_000): Promise<{ status: number; events: Array<Record<string, unknown>> }> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, events: [] as Array<Record<string, unknown>> };
  while (Date.now() < deadline) {
    const res = await fetch(`${walk.gatewayUrl}${traceStep(correlationId).path}`, { headers: { authorization: `Bearer ${walk.tokens.admin}` } });
    const body = (await res.json().catch(() => ({}))) as { events?: Array<Record<string, unknown>> };
    last = { status: res.status, events: body.events ?? [] };
    if (res.ok && last.events.length > 0) return last;
    // The event travels producer batch → BullMQ → writer: usually well under a second.
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}

export function traceStep(correlationId: string): Step {
  return { title: 'the audit trail of that request, by its correlation id', user: 'admin', method: 'GET', path: `/api/audit/traces/${correlationId}`, expect: 200, print: true };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The curl command of a step, for a shell in which the tokens are exported. */
export function curlOf(step: Step, base = 'localhost:8080'): string {
  const parts = ['curl -s'];
  if (step.expect >= 400) parts[0] = 'curl -s -w "\\nHTTP %{http_code}\\n"';
  if (step.method !== 'GET') parts.push(`-X ${step.method}`);
  parts.push(`${base}${step.path}`);
  if (step.user) parts.push(`-H "authorization: Bearer $${DEMO_USERS[step.user].variable}"`);
  if (step.host) parts.push(`-H 'host: ${step.host}'`);
  if (step.body !== undefined) parts.push(`-H 'content-type: application/json' -d ${quote(JSON.stringify(step.body))}`);
  return parts.join(' ');
}
