/**
 * `npm start`: the whole local stack with a demo. Seeds identity, starts identity, policy-sidecar
 * and audit-writer, then walks one request's life through them (token → introspection → policy
 * decision → audit event → audit query). Runs until Ctrl-C.
 */
import pg from 'pg';
import { Socket } from 'node:net';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { uuidv7, type AuditEventInput, type PolicyInput } from '@cloud-stack/contracts';
import { runCommand, startService, waitReady, type RunningService } from './stack';

const PG = process.env.DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const GATEWAY_CLIENT = { id: 'gateway', secret: 'demo-gateway-secret-change-me' };

function say(line = ''): void {
  process.stdout.write(`\u001b[1m${line}\u001b[0m\n`);
}

async function checkPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG}/postgres`, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${PG} (${(err as Error).message}); start it or set DATABASE_SERVER_URL`);
  }
}

async function checkRedis(): Promise<void> {
  const { hostname, port } = new URL(REDIS_URL);
  await new Promise<void>((resolve, reject) => {
    const s = new Socket();
    s.setTimeout(3000, () => (s.destroy(), reject(new Error(`Redis does not answer at ${REDIS_URL}; start it or set REDIS_URL`))));
    s.once('error', () => reject(new Error(`Redis does not answer at ${REDIS_URL}; start it or set REDIS_URL`)));
    s.connect(Number(port || 6379), hostname, () => (s.destroy(), resolve()));
  });
}

async function form(url: string, body: Record<string, string>, basic?: { id: string; secret: string }): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}`;
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function demo(identity: string, policy: string, audit: string): Promise<void> {
  say('\n── demo ──────────────────────────────────────────────────────────────');
  const login = await form(`${identity}/oauth/token`, {
    grant_type: 'password',
    client_id: 'console',
    username: 'customer@acme.example',
    password: 'demo-customer-pass',
  });
  const token = String(login.access_token);
  say(`1. customer@acme.example logged in: ${token.slice(0, 32)}… (expires in ${String(login.expires_in)} s)`);

  const claims = await form(`${identity}/oauth/introspect`, { token }, GATEWAY_CLIENT);
  say(`2. introspected by the gateway client: active=${String(claims.active)} tenant=${String(claims.tenant_id)} roles=${JSON.stringify(claims.roles)} trial=${String(claims.trial_mode)} agent=${String(claims.agent_id)}`);

  const input: PolicyInput = {
    request: { method: 'POST', host: 'api.acme.example', path: `/agents/${String(claims.agent_id)}/execute` },
    route: { id: 'agents-execute', params: { agent_id: String(claims.agent_id) }, permission: 'agent:execute', requires_governor: false, cost: 2 },
    subject: {
      authenticated: true,
      sub: String(claims.sub),
      tenant_id: String(claims.tenant_id),
      client_id: String(claims.client_id),
      roles: claims.roles as PolicyInput['subject']['roles'],
      is_governor: Boolean(claims.is_governor),
      trial_mode: Boolean(claims.trial_mode),
      agent_id: (claims.agent_id as string | null) ?? null,
    },
    budget: { monthly_spend: 40, cap: 100 },
  };
  const decisionRes = await fetch(`${policy}/v1/data/gateway/authz/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  const decision = (await decisionRes.json()) as { result?: { allow: boolean; reasons: string[]; obligations: unknown }; decision_id?: string };
  say(`3. policy decision for POST ${input.request.path}: ${JSON.stringify(decision.result)}`);

  const producer = createAuditProducer({ connection: REDIS_URL });
  const correlation = uuidv7();
  const event: AuditEventInput = {
    event_id: uuidv7(),
    occurred_at: new Date().toISOString(),
    correlation_id: correlation,
    causation_id: null,
    trace_id: null,
    tenant_id: String(claims.tenant_id),
    user_id: String(claims.sub),
    client_id: String(claims.client_id),
    agent_id: (claims.agent_id as string | null) ?? null,
    route_id: input.route.id,
    method: input.request.method,
    host: input.request.host,
    path: input.request.path,
    status: decision.result?.allow ? 200 : 403,
    duration_ms: 12.5,
    decision: decision.result
      ? { allow: decision.result.allow, reasons: decision.result.reasons, policy: 'gateway.authz', decision_id: decision.decision_id ?? null }
      : null,
    sandbox_routed: JSON.stringify(decision.result?.obligations ?? {}).includes('sandbox'),
    trial_mode: input.subject.trial_mode,
    upstream: null,
    ip: '127.0.0.1',
    user_agent: 'cloud-stack-demo',
    error_code: null,
  };
  producer.emit(event);
  await producer.close();
  say(`4. audit event ${event.event_id} handed to the audit queue`);

  const admin = await form(`${identity}/oauth/token`, {
    grant_type: 'password',
    client_id: 'console',
    username: 'admin@acme.example',
    password: 'demo-acme-admin-pass',
  });
  for (let attempt = 0; attempt < 40; attempt++) {
    const res = await fetch(`${audit}/v1/audit/traces/${correlation}`, { headers: { authorization: `Bearer ${String(admin.access_token)}` } });
    if (res.ok) {
      const body = (await res.json()) as { events?: Array<{ event_id: string }> };
      if (body.events?.length) {
        say(`5. admin@acme.example reads it back from the audit log: GET /v1/audit/traces/${correlation} → ${body.events.length} event(s)`);
        break;
      }
    } else if (attempt === 39) {
      say(`5. audit query answered ${res.status}: ${await res.text()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  say('──────────────────────────────────────────────────────────────────────');
}

async function main(): Promise<void> {
  await checkPostgres();
  await checkRedis();
  const identityDb = `${PG}/identity`;
  say('seeding identity (infra/seed/demo.json)…');
  process.stdout.write(await runCommand(['apps/identity/src/cli.ts', 'seed'], { DATABASE_URL: identityDb, REDIS_URL }));

  const services: RunningService[] = [
    startService({ name: 'identity', entry: 'apps/identity/src/main.ts', port: 3333, env: { DATABASE_URL: identityDb, REDIS_URL } }, 0),
    startService(
      {
        name: 'policy-sidecar',
        entry: 'apps/policy-sidecar/src/main.ts',
        port: 8181,
        env: { REDIS_URL, POLICY_DIR: 'infra/policies' },
        // As in its image: a fixed young generation keeps GC out of the decision latency tail.
        nodeFlags: ['--min-semi-space-size=64', '--max-semi-space-size=64'],
      },
      1,
    ),
    startService(
      { name: 'audit-writer', entry: 'apps/audit-writer/src/main.ts', port: 8010, env: { DATABASE_URL: `${PG}/audit`, REDIS_URL, IDENTITY_URL: 'http://127.0.0.1:3333' } },
      2,
    ),
  ];
  const stop = () => {
    for (const s of services) s.child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await Promise.all(services.map((s) => waitReady(s)));
  } catch (err) {
    stop();
    throw err;
  }
  const [identity, policy, audit] = services.map((s) => s.url) as [string, string, string];
  await demo(identity, policy, audit);
  say(`\nidentity ${identity}   policy-sidecar ${policy}   audit-writer ${audit}`);
  say('credentials: see the seed output above (infra/seed/demo.json). Ctrl-C stops the stack.');
  await Promise.all(services.map((s) => new Promise((r) => s.child.once('exit', r))));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start: ${(err as Error).message}\n`);
  process.exit(1);
});
