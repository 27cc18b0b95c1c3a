/**
 * `npm start`: the whole local stack with a demo. Finds (or starts) PostgreSQL and Redis, seeds
 * identity, applies the demo routes and budgets through the gateway's CLI, starts identity,
 * policy-sidecar, audit-writer and the gateway as processes and the demo upstreams in this one,
 * walks the demo through the gateway, and prints the services and curl commands that work.
 * Runs until Ctrl-C, then stops everything it started.
 */
import { DEMO_UPSTREAMS, startDemoUpstreams } from './demo-upstreams';
import { auditTrail, curlOf, DEMO_BUDGETS, DEMO_USERS, describe, runStep, STEPS, traceStep, type DemoUserKey, type StepResult, type Walk } from './demo-walk';
import { ensurePortsFree, resolveInfra, StartError, type Infra } from './infra';
import { CONSOLE_PATH, CONSOLE_SIGN_IN, ensureConsoleBuilt } from './console-build';
import { runCommand, startService, stopService, waitReady, type RunningService } from './stack';

const ROUTES_FILE = 'infra/gateway/demo-routes.yaml';
// The demo seed's secrets (infra/seed/demo.json): services have no default secret.
const GATEWAY_CLIENT_SECRET = 'demo-gateway-secret-change-me';
const AUDIT_WRITER_SECRET = 'audit-writer-dev-secret';
// What the gateway signs its identity headers with; the demo upstreams check it.
const UPSTREAM_SIGNING_SECRET = 'demo-upstream-signing-secret-not-for-production';
// Long enough for the printed tokens to outlast a working session with the demo.
const TOKEN_TTL_SECONDS = 8 * 3600;
const GATEWAY_PORT = 8080;

const SERVICES = [
  { name: 'identity', port: 3333, role: 'tenants, users, OAuth tokens, introspection' },
  { name: 'policy-sidecar', port: 8181, role: 'policy decisions (Rego, infra/policies)' },
  { name: 'audit-writer', port: 8010, role: 'audit queue → PostgreSQL, audit API' },
  { name: 'gateway', port: GATEWAY_PORT, role: 'every demo request goes through it' },
] as const;

// The signal handler exits once everything has stopped; until then main must not.
const forever = () => new Promise<never>(() => undefined);

const bold = (line: string) => `\u001b[1m${line}\u001b[0m`;
const say = (line = '') => process.stdout.write(`${bold(line)}\n`);
const plain = (line = '') => process.stdout.write(`${line}\n`);

/** Environments of the four services, from where PostgreSQL and Redis are. */
function environments(infra: Infra) {
  const base = { REDIS_URL: infra.redisUrl, HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  return {
    identity: { ...base, DATABASE_URL: infra.databaseUrl('identity'), ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS), ISSUER: 'http://localhost:3333' },
    'policy-sidecar': { ...base, POLICY_DIR: 'infra/policies' },
    'audit-writer': {
      ...base,
      DATABASE_URL: infra.databaseUrl('audit'),
      IDENTITY_URL: 'http://127.0.0.1:3333',
      AUDIT_INTROSPECTION_CLIENT_SECRET: AUDIT_WRITER_SECRET,
    },
    gateway: {
      ...base,
      DATABASE_URL: infra.databaseUrl('gateway'),
      WEB_CONCURRENCY: '1',
      IDENTITY_URL: 'http://127.0.0.1:3333',
      // Where the operator console's browser signs in (the seeded redirect URIs name localhost:8080).
      IDENTITY_PUBLIC_URL: 'http://localhost:3333',
      IDENTITY_CLIENT_SECRET: GATEWAY_CLIENT_SECRET,
      POLICY_URL: 'http://127.0.0.1:8181',
      UPSTREAM_SIGNING_SECRET,
    },
  };
}

async function login(user: DemoUserKey): Promise<string> {
  const { email, password } = DEMO_USERS[user];
  const res = await fetch('http://127.0.0.1:3333/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: email, password }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new StartError(`login of ${email} answered ${res.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Walks the demo through the gateway and prints what happened; returns what to print as curl commands. */
async function walkDemo(): Promise<{ walk: Walk; results: StepResult[]; traceId: string | null; failures: number }> {
  const users = Object.keys(DEMO_USERS) as DemoUserKey[];
  const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(u)] as const))) as Record<DemoUserKey, string>;
  const walk: Walk = { gatewayUrl: `http://127.0.0.1:${GATEWAY_PORT}`, tokens };
  say('\n── the demo, through the gateway (http://localhost:8080) ─────────────────────');
  const results: StepResult[] = [];
  let failures = 0;
  for (const step of STEPS) {
    const result = await runStep(walk, step);
    results.push(result);
    const ok = result.status === step.expect;
    if (!ok) failures++;
    const who = step.user ? DEMO_USERS[step.user].email : 'no token';
    plain(`${ok ? '✓' : '✗'} ${result.status}${ok ? '' : ` (expected ${step.expect})`} ${step.method} ${step.host ? `${step.host}` : ''}${step.path}  [${who}]`);
    plain(`    ${step.title}`);
    plain(`    → ${describe(result)}`);
  }
  const sandboxed = results[1];
  const traceId = sandboxed?.correlationId ?? null;
  if (traceId) {
    const trail = await auditTrail(walk, traceId);
    const ok = trail.status === 200 && trail.events.length > 0;
    if (!ok) failures++;
    plain(`${ok ? '✓' : '✗'} ${trail.status} GET /api/audit/traces/${traceId}  [${DEMO_USERS.admin.email}]`);
    plain(`    the audit trail of the sandboxed execution, by its correlation id (gateway → audit queue → audit-writer)`);
    for (const e of trail.events) {
      const decision = e.decision as { allow?: boolean; reasons?: string[] } | null;
      plain(
        `    → event ${String(e.event_id)}: ${String(e.method)} ${String(e.path)} ${String(e.status)} route ${String(e.route_id)}, user ${String(e.user_id)}, sandbox_routed ${String(e.sandbox_routed)}, upstream ${String(e.upstream)}, decision ${decision ? `${decision.allow ? 'allow' : 'deny'} (${(decision.reasons ?? []).join('; ')})` : 'none'}`,
      );
    }
  } else {
    failures++;
    plain('✗ the sandboxed execution carried no X-Correlation-ID: no audit trail to show');
  }
  return { walk, results, traceId, failures };
}

function printTable(services: RunningService[], infra: Infra): void {
  say('\n── services ──────────────────────────────────────────────────────────────────');
  const rows: Array<[string, string, string, string]> = [
    ...services.map((s) => [s.spec.name, `http://localhost:${s.spec.port}`, `pid ${s.child.pid ?? '?'}`, SERVICES.find((x) => x.name === s.spec.name)?.role ?? ''] as [string, string, string, string]),
    ...DEMO_UPSTREAMS.map((u) => [u.name, `http://localhost:${u.port}`, `pid ${process.pid}`, `demo upstream: ${u.role}`] as [string, string, string, string]),
    ['postgresql', infra.postgresNote, '', 'databases identity, audit, gateway'],
    ['redis', infra.redisNote, '', 'audit queue, revocations, rate limits, budgets'],
  ];
  for (const [name, url, pid, role] of rows) plain(`  ${name.padEnd(16)} ${url.padEnd(Math.max(...rows.map((r) => r[1].length)) + 1)} ${pid.padEnd(10)} ${role}`);
  plain(`\n  operator console   http://localhost:${GATEWAY_PORT}${CONSOLE_PATH} — sign in on identity's page as`);
  for (const u of CONSOLE_SIGN_IN) plain(`                       ${u.email} / ${u.password} (${u.note})`);
  plain(`  gateway admin API  http://localhost:${GATEWAY_PORT}/__gateway/admin (routes, versions, apply, discovery)`);
  plain(`  upstream health    http://localhost:${GATEWAY_PORT}/__gateway/health/upstreams`);
  plain(`  demo secrets       gateway client ${GATEWAY_CLIENT_SECRET}, audit-writer client ${AUDIT_WRITER_SECRET},`);
  plain(`                     UPSTREAM_SIGNING_SECRET ${UPSTREAM_SIGNING_SECRET} (demo values, not for production)`);
}

function printCurls(walk: Walk, results: StepResult[], traceId: string | null): void {
  say(`\n── try it (tokens valid ${TOKEN_TTL_SECONDS / 3600} h; every command below was just run) ───────────────────`);
  plain('# paste into a shell first (a fresh token: curl -s localhost:3333/oauth/token -d grant_type=password -d client_id=console -d username=… -d password=…):');
  for (const [key, u] of Object.entries(DEMO_USERS)) {
    plain(`# ${u.email}: ${u.note}`);
    plain(`export ${u.variable}='${walk.tokens[key as DemoUserKey]}'`);
  }
  plain('');
  for (const r of results.filter((x) => x.step.print)) {
    plain(`# ${r.step.title} → ${r.status}`);
    plain(curlOf(r.step));
  }
  if (traceId) {
    const step = traceStep(traceId);
    plain(`# ${step.title} (the sandboxed execution above; any response's X-Correlation-ID works: curl -i)`);
    plain(curlOf(step));
  }
  plain('# the live route table (admin API); what route discovery proposes from the backends\' /openapi.json; the upstreams as the gateway probes them');
  plain(`curl -s localhost:${GATEWAY_PORT}/__gateway/admin/routes -H "authorization: Bearer $ADMIN"`);
  plain(`curl -s localhost:${GATEWAY_PORT}/__gateway/admin/discovery/proposals -H "authorization: Bearer $ADMIN"`);
  plain(`curl -s localhost:${GATEWAY_PORT}/__gateway/health/upstreams`);
  say('\nCtrl-C stops the stack.');
}

async function main(): Promise<number> {
  await ensurePortsFree([...SERVICES, ...DEMO_UPSTREAMS]);
  const infra = await resolveInfra(process.env, say);
  const services: RunningService[] = [];
  let upstreams: { close(): Promise<void> } | undefined;
  let stopping: Promise<void> | undefined;
  // The one-off command (seed, apply, budget) running now, if any: stopping ends it first.
  const setup = new AbortController();
  let command: Promise<string> | undefined;
  const run = (args: readonly string[], env: Record<string, string>) => (command = runCommand(args, env, setup.signal));
  // The gateway first (it flushes its last audit events), the audit-writer last (it writes them).
  const stopAll = () =>
    (stopping ??= (async () => {
      setup.abort();
      await command?.catch(() => undefined);
      const byName = (n: string) => services.filter((s) => s.spec.name === n);
      for (const group of [byName('gateway'), [...byName('identity'), ...byName('policy-sidecar')], byName('audit-writer')]) {
        await Promise.all(
          group.map(async (s) => {
            const failed = await stopService(s);
            if (failed) process.stderr.write(`npm start: ${s.spec.name} ended with ${failed} while stopping\n`);
          }),
        );
      }
      await upstreams?.close();
      await infra.stop();
    })());
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('\nstopping…');
    void stopAll().then(() => {
      say(
        infra.throwawayPostgres
          ? 'stopped: every process npm start started has exited, the embedded PostgreSQL and its data directory are gone.'
          : `stopped: every process npm start started has exited; the databases identity, audit and gateway stay on ${infra.postgresNote} for the next run.`,
      );
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await ensureConsoleBuilt(say);
    upstreams = await startDemoUpstreams(UPSTREAM_SIGNING_SECRET);
    const env = environments(infra);
    say('seeding identity (infra/seed/demo.json)…');
    plain(await run(['apps/identity/src/cli.ts', 'seed'], env.identity));
    // Budgets start the month at 0 spent, so every run tells the same story (the paying agent's first execution passes, the second is refused).
    say(`applying the demo routes (${ROUTES_FILE}) and budgets through the gateway CLI…`);
    plain((await run(['apps/gateway/src/cli.ts', 'apply', ROUTES_FILE, '--activate'], env.gateway)).trim());
    for (const { agent, cap } of Object.values(DEMO_BUDGETS)) {
      plain((await run(['apps/gateway/src/cli.ts', 'budget', agent, String(cap), 'acme', '--reset-spend'], env.gateway)).trim());
    }
    if (interrupted) return forever();

    say('starting identity, policy-sidecar, audit-writer, gateway…');
    SERVICES.forEach((s, i) => {
      const spec = {
        name: s.name,
        entry: `apps/${s.name}/src/main.ts`,
        port: s.port,
        env: env[s.name],
        // As in its image: a fixed young generation keeps GC out of the decision latency tail.
        nodeFlags: s.name === 'policy-sidecar' ? ['--min-semi-space-size=32', '--max-semi-space-size=32'] : [],
      };
      services.push(startService(spec, i));
    });
    await Promise.all(services.map((s) => waitReady(s)));
    if (interrupted) return forever();
    // A service that dies while the demo runs takes the stack down, with its name.
    for (const s of services) {
      s.child.once('exit', (code, signal) => {
        if (interrupted) return;
        process.stderr.write(`npm start: ${s.spec.name} exited (${signal ?? `code ${code}`}); stopping the stack\n`);
        interrupted = true;
        void stopAll().then(() => process.exit(1));
      });
    }

    const { walk, results, traceId, failures } = await walkDemo();
    printTable(services, infra);
    printCurls(walk, results, traceId);
    if (failures) say(`\n${failures} demo step(s) did not answer as expected (✗ above); the stack keeps running for a look.`);
    return forever();
  } catch (err) {
    // Stopped by a signal half-way: the signal handler finishes the job and exits.
    if (interrupted) return forever();
    await stopAll();
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start: ${err instanceof StartError ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exit(1);
  },
);
