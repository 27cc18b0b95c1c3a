/**
 * Gateway benchmark. In one run, each behind the same upstream and each its own process (one core's
 * worth, as on Cloud Run): the upstream directly, a bare node:http proxy, a bare express-http-proxy
 * with the gateway's transport and server settings (and the same on a server made the usual way:
 * `bare_ehp_plain`), and the gateway with its full pipeline on an authenticated
 * route (cached introspection and decision, rate limit, budget stage, audit enqueue) in both policy
 * modes; also the gateway without audit, without rate limit, without both, and with no caches (`cold`: every
 * request introspected at identity and decided by the sidecar). Targets alternate over rounds and
 * the median round is reported.
 *
 * The one-connection rows (`_c1`) send BENCH_C1_REQUESTS requests one after another on one
 * keep-alive socket and time each to the microsecond; the others run autocannon for BENCH_DURATION.
 *
 *   npm run bench:gateway        (BENCH_DURATION=5 s per run, BENCH_ROUNDS=3, BENCH_CONNECTIONS=10, BENCH_C1_REQUESTS=5000;
 *                                 BENCH_PROFILE_DIR=dir writes each gateway's CPU profile, and bare ehp's;
 *                                 BENCH_TARGETS=gateway,embedded measures only those;
 *                                 BENCH_AUDIT_HOLD_MS=N, BENCH_AUDIT_LINGER_MS=N and BENCH_AUDIT_GATHER_MS=N
 *                                 run the gateways with AUDIT_HOLD_MS=N, AUDIT_LINGER_MS=N and AUDIT_GATHER_MS=N;
 *                                 BENCH_INSTRUCTIONS=N runs the proxies and gateways under valgrind's
 *                                 callgrind and counts the instructions of N requests per target:
 *                                 slow, but the same on a busy machine as on a quiet one)
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createTestDatabase, type TestDatabase } from '@cloud-stack/db';
import { freePort, REPO_ROOT, runProcess, startProcess, waitForReady, type ServiceProcess } from '@cloud-stack/test-kit';
import { load as leanLoad } from './policy-load';
import { deletePrefix, redisAvailable } from './redis';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const C1_REQUESTS = Number(process.env.BENCH_C1_REQUESTS ?? 5000);
const GATEWAY_SECRET = 'demo-gateway-secret-change-me';
const INSTRUCTIONS = Number(process.env.BENCH_INSTRUCTIONS ?? 0);
// A busy machine (or valgrind) starts services slowly.
const READY_MS = 300_000;
const CALLGRIND_DIR = join(tmpdir(), `bench-gateway-callgrind-${process.pid}`);

interface Figure {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bad: number;
  /** CPU time the serving process spent per request (user + system): its cost, whatever else runs on the machine. */
  readonly cpuUs: number;
  /** With BENCH_INSTRUCTIONS: user-space instructions the serving process ran per request (callgrind). */
  readonly instructions?: number;
}

/** User + system CPU time of a process so far, in microseconds (from /proc; clock ticks of 10 ms). */
function cpuTimeUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * A server under callgrind with instrumentation off until a measurement turns it on (start-up and
 * warm-up run at near full speed). Valgrind execs in place, so the child's pid is the one to control.
 */
function startUnderCallgrind(name: string, entry: string, port: number, env: Record<string, string>): ServiceProcess {
  const args = ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${CALLGRIND_DIR}/${name}.%p`, process.execPath, '--import', 'tsx', entry];
  const child = spawn('valgrind', args, { cwd: REPO_ROOT, env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-100_000)));
  child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-100_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Instructions counted between `callgrind_control -i on` and the dump that follows `-i off`. */
async function countInstructions<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; instructions: number }> {
  const dumps = () => readdirSync(CALLGRIND_DIR).filter((f) => f.includes(`.${pid}`));
  const before = new Set(dumps());
  execFileSync('callgrind_control', ['-i', 'on', String(pid)], { stdio: 'ignore' });
  const result = await run();
  execFileSync('callgrind_control', ['-i', 'off', String(pid)], { stdio: 'ignore' });
  execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const fresh = dumps().filter((f) => !before.has(f));
    const totals = fresh.map((f) => /^totals: (\d+)/m.exec(readFileSync(join(CALLGRIND_DIR, f), 'utf8'))?.[1]);
    if (fresh.length && totals.every(Boolean)) return { result, instructions: totals.reduce((a, t) => a + Number(t), 0) };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no callgrind dump from ${pid}`);
}

async function countedLoad(url: string, connections: number, headers: Record<string, string>, pid: number): Promise<Figure> {
  const { result: r, instructions } = await countInstructions(pid, () => autocannon({ url, connections, amount: INSTRUCTIONS, headers, workers: 1, timeout: 120 }));
  const total = r.requests.total || 1;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts, cpuUs: 0, instructions: instructions / total };
}

async function load(url: string, connections: number, headers: Record<string, string>, pid: number, duration = DURATION): Promise<Figure> {
  if (connections === 1) return oneConnection(url, headers, pid, duration === DURATION ? C1_REQUESTS : Math.ceil(C1_REQUESTS / 5));
  const cpuBefore = cpuTimeUs(pid);
  const r = await autocannon({ url, connections, duration, headers, workers: 1 });
  const cpu = cpuTimeUs(pid) - cpuBefore;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts, cpuUs: r.requests.total ? cpu / r.requests.total : 0 };
}

/**
 * One keep-alive connection, a request at a time, timed to the microsecond (autocannon's latencies
 * are whole milliseconds: a p99 of "5" is anything from 5 to 6 ms, and "0" anything under 1).
 */
async function oneConnection(url: string, headers: Record<string, string>, pid: number, requests: number): Promise<Figure> {
  const cpuBefore = cpuTimeUs(pid);
  const r = await leanLoad({ name: url, url, method: 'GET', headers, connections: 1, requests, warmup: 0 });
  const cpu = cpuTimeUs(pid) - cpuBefore;
  return { rps: r.rps, p50: r.p50_us / 1000, p99: r.p99_us / 1000, bad: r.non2xx, cpuUs: r.requests ? cpu / r.requests : 0 };
}

/** Whole milliseconds as autocannon gives them; fractions (the one-connection rows) to the hundredth. */
const ms = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function median(figures: readonly Figure[]): Figure {
  const sorted = [...figures].sort((a, b) => (a.instructions ?? a.rps) - (b.instructions ?? b.rps));
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  if (!(await redisAvailable(REDIS_URL))) throw new Error(`Redis does not answer at ${REDIS_URL}`);
  const prefix = `bench:gw:${randomBytes(4).toString('hex')}:`;
  const databases: TestDatabase[] = [];
  const processes: ServiceProcess[] = [];
  const cleanup = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all(databases.map((d) => d.drop().catch(() => undefined)));
    await deletePrefix(REDIS_URL, prefix);
  };
  try {
    const identityDb = await createTestDatabase(ADMIN_URL, 'bench_gw_identity');
    const gatewayDb = await createTestDatabase(ADMIN_URL, 'bench_gw');
    databases.push(identityDb, gatewayDb);
    const ports = { identity: await freePort(), sidecar: await freePort(), upstream: await freePort(), node: await freePort(), ehp: await freePort(), ehpPlain: await freePort() };

    const identityEnv = { DATABASE_URL: identityDb.url, REDIS_URL, REDIS_PREFIX: prefix, AUDIT_EVENTS: 'none', SCRYPT_LOG_N: '8' };
    await runProcess('apps/identity/src/cli.ts', ['seed'], identityEnv);
    // BENCH_PROFILE_DIR=dir: each gateway writes a V8 CPU profile there when it stops.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    // Under BENCH_INSTRUCTIONS the servers being compared run under callgrind; identity, the
    // sidecar and the upstream run as usual.
    const measured = (name: string) => name.startsWith('gateway') || name.startsWith('bare');
    if (INSTRUCTIONS) execFileSync('mkdir', ['-p', CALLGRIND_DIR]);
    const start = (name: string, entry: string, port: number, env: Record<string, string>) => {
      const p = INSTRUCTIONS && measured(name) ? startUnderCallgrind(name, entry, port, env) : startProcess(name, entry, port, env, name.startsWith('gateway') || name === 'bare-ehp' ? profile : []);
      processes.push(p);
      return p;
    };
    const identity = start('identity', 'apps/identity/src/main.ts', ports.identity, identityEnv);
    const sidecar = start('policy-sidecar', 'apps/policy-sidecar/src/main.ts', ports.sidecar, { DECISION_LOG_SINK: 'none', POLICY_WATCH: 'false', HOST: '127.0.0.1' });
    const upstream = start('upstream', 'tools/bench/src/gateway-targets.ts', ports.upstream, { TARGET: 'upstream' });
    const bareNode = start('bare-node', 'tools/bench/src/gateway-targets.ts', ports.node, { TARGET: 'bare-node', UPSTREAM: upstream.url });
    const bareEhp = start('bare-ehp', 'tools/bench/src/gateway-targets.ts', ports.ehp, { TARGET: 'bare-ehp', UPSTREAM: upstream.url });
    const bareEhpPlain = start('bare-ehp-plain', 'tools/bench/src/gateway-targets.ts', ports.ehpPlain, { TARGET: 'bare-ehp-plain', UPSTREAM: upstream.url });
    await Promise.all([waitForReady(identity, '/ready', READY_MS), waitForReady(sidecar, '/health', READY_MS), ...[upstream, bareNode, bareEhp, bareEhpPlain].map((p) => waitForReady(p, '/health', READY_MS))]);

    // Routes: the same authenticated read, with the full pipeline and without audit and rate limit.
    const routes = {
      products: [
        {
          name: 'bench',
          upstream: upstream.url,
          routes: [
            { id: 'bench.full', path: '/full/{id}', methods: ['GET'], permission: 'agent:read', rate_limit: { per_minute: 100_000_000, per_hour: 1_000_000_000 } },
            { id: 'bench.minimal', path: '/minimal/{id}', methods: ['GET'], permission: 'agent:read', stages: ['auth', 'policy', 'budget'] },
            { id: 'bench.no-audit', path: '/no-audit/{id}', methods: ['GET'], permission: 'agent:read', stages: ['auth', 'policy', 'rate_limit', 'budget'], rate_limit: { per_minute: 100_000_000 } },
            { id: 'bench.no-rate-limit', path: '/no-rate-limit/{id}', methods: ['GET'], permission: 'agent:read', stages: ['auth', 'policy', 'budget', 'audit'] },
          ],
        },
      ],
    };
    const routeFile = join(tmpdir(), `bench-gateway-routes-${randomBytes(4).toString('hex')}.json`);
    await writeFile(routeFile, JSON.stringify(routes));
    const gatewayEnv = {
      DATABASE_URL: gatewayDb.url,
      REDIS_URL,
      GATEWAY_REDIS_PREFIX: prefix,
      IDENTITY_REDIS_PREFIX: prefix,
      AUDIT_QUEUE_PREFIX: `${prefix}bull`,
      IDENTITY_URL: identity.url,
      IDENTITY_CLIENT_SECRET: GATEWAY_SECRET,
      POLICY_URL: sidecar.url,
      POLICY_DIR: 'infra/policies',
      POLICY_WATCH: 'false',
      WEB_CONCURRENCY: '1',
      ...(process.env.BENCH_AUDIT_HOLD_MS ? { AUDIT_HOLD_MS: process.env.BENCH_AUDIT_HOLD_MS } : {}),
      ...(process.env.BENCH_AUDIT_GATHER_MS ? { AUDIT_GATHER_MS: process.env.BENCH_AUDIT_GATHER_MS } : {}),
      ...(process.env.BENCH_AUDIT_LINGER_MS ? { AUDIT_LINGER_MS: process.env.BENCH_AUDIT_LINGER_MS } : {}),
    };
    await runProcess('apps/gateway/src/cli.ts', ['apply', routeFile, '--activate'], gatewayEnv);
    await runProcess('apps/gateway/src/cli.ts', ['budget', 'agent-prod-001', '1000000000'], gatewayEnv);
    // BENCH_TARGETS=gateway,embedded runs only those (the JSON line then needs every target: it is skipped).
    const only = process.env.BENCH_TARGETS?.split(',') ?? (INSTRUCTIONS ? ['bare_node', 'bare_ehp', 'gateway', 'gateway_minimal', 'embedded'] : undefined);
    const wanted = (target: string) => !only || only.includes(target);
    const gateways = {
      sidecar: start('gateway', 'apps/gateway/src/main.ts', await freePort(), gatewayEnv),
      embedded: wanted('embedded') ? start('gateway-embedded', 'apps/gateway/src/main.ts', await freePort(), { ...gatewayEnv, POLICY_MODE: 'embedded' }) : undefined,
      cold: wanted('cold')
        ? start('gateway-cold', 'apps/gateway/src/main.ts', await freePort(), { ...gatewayEnv, INTROSPECTION_CACHE_SECONDS: '0', INTROSPECTION_NEGATIVE_CACHE_SECONDS: '0', POLICY_CACHE_TTL_MS: '0' })
        : undefined,
    };
    await Promise.all(Object.values(gateways).map((g) => g && waitForReady(g, '/ready', READY_MS)));

    const login = await fetch(`${identity.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: 'buyer@acme.example', password: 'demo-buyer-pass' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    const targets: Record<string, { url: string; headers: Record<string, string>; server: ServiceProcess; connections?: number }> = {
      direct: { url: `${upstream.url}/full/1`, headers: {}, server: upstream },
      bare_node: { url: `${bareNode.url}/full/1`, headers: {}, server: bareNode },
      bare_ehp: { url: `${bareEhp.url}/full/1`, headers: {}, server: bareEhp },
      bare_ehp_plain: { url: `${bareEhpPlain.url}/full/1`, headers: {}, server: bareEhpPlain },
      gateway: { url: `${gateways.sidecar.url}/full/1`, headers: auth, server: gateways.sidecar },
      gateway_minimal: { url: `${gateways.sidecar.url}/minimal/1`, headers: auth, server: gateways.sidecar },
      gateway_no_audit: { url: `${gateways.sidecar.url}/no-audit/1`, headers: auth, server: gateways.sidecar },
      gateway_no_rate_limit: { url: `${gateways.sidecar.url}/no-rate-limit/1`, headers: auth, server: gateways.sidecar },
      ...(gateways.embedded && { embedded: { url: `${gateways.embedded.url}/full/1`, headers: auth, server: gateways.embedded } }),
      ...(gateways.cold && { cold: { url: `${gateways.cold.url}/full/1`, headers: auth, server: gateways.cold } }),
      direct_c1: { url: `${upstream.url}/full/1`, headers: {}, server: upstream, connections: 1 },
      gateway_c1: { url: `${gateways.sidecar.url}/full/1`, headers: auth, server: gateways.sidecar, connections: 1 },
      // What audit and rate limit add at one connection, where nothing is batched.
      gateway_minimal_c1: { url: `${gateways.sidecar.url}/minimal/1`, headers: auth, server: gateways.sidecar, connections: 1 },
    };
    if (only) for (const name of Object.keys(targets)) if (!only.includes(name)) delete targets[name];
    for (const [name, t] of Object.entries(targets)) {
      const check = await fetch(t.url, { headers: t.headers });
      if (check.status !== 200) throw new Error(`${name}: ${t.url} answered ${check.status} ${await check.text()}`);
      await load(t.url, t.connections ?? CONNECTIONS, t.headers, t.server.child.pid!, 2); // warm-up: JIT, pools, caches
    }
    const results: Record<string, Figure[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, t] of Object.entries(targets)) {
        if (INSTRUCTIONS) {
          const f = await countedLoad(t.url, t.connections ?? CONNECTIONS, t.headers, t.server.child.pid!);
          (results[name] ??= []).push(f);
          process.stdout.write(`round ${round + 1} ${name.padEnd(22)} ${Math.round(f.instructions!).toLocaleString('en').padStart(11)} instructions/req${f.bad ? `  (${f.bad} not 2xx)` : ''}\n`);
          continue;
        }
        const f = await load(t.url, t.connections ?? CONNECTIONS, t.headers, t.server.child.pid!);
        (results[name] ??= []).push(f);
        process.stdout.write(`round ${round + 1} ${name.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} req/s  p50 ${ms(f.p50)} ms  p99 ${ms(f.p99)} ms  ${f.cpuUs.toFixed(0)} µs CPU/req${f.bad ? `  (${f.bad} not 2xx)` : ''}\n`);
      }
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<keyof typeof targets, Figure>;
    if (INSTRUCTIONS) {
      const base = m.bare_ehp?.instructions;
      console.log(`\ninstructions per request (callgrind, ${INSTRUCTIONS} requests, median of ${ROUNDS} rounds; user space only)`);
      for (const [k, f] of Object.entries(m)) console.log(`${k.padEnd(22)} ${Math.round(f.instructions!).toLocaleString('en').padStart(11)}${base ? `  bare_ehp/this ${(base / f.instructions!).toFixed(3)}` : ''}`);
      return;
    }
    if (only) {
      for (const [k, f] of Object.entries(m)) console.log(`${k.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} req/s  p50 ${ms(f.p50)}  p99 ${ms(f.p99)}  ${f.cpuUs.toFixed(0)} µs CPU/req`);
      return;
    }
    const bad = Object.entries(m).filter(([, f]) => f.bad > 0);
    console.log(`\nmedian of ${ROUNDS} rounds, ${DURATION} s each, ${CONNECTIONS} connections (c1 rows: 1 connection, ${C1_REQUESTS} requests timed to the µs)`);
    console.log('target                   req/s  p50 ms  p99 ms  CPU µs/req (serving process)');
    for (const [k, f] of Object.entries(m)) console.log(`${k.padEnd(22)} ${f.rps.toFixed(0).padStart(7)}  ${ms(f.p50).padStart(6)}  ${ms(f.p99).padStart(6)}  ${f.cpuUs.toFixed(0).padStart(6)}`);
    const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
    const summary = {
      gateway_rps: Math.round(m.gateway.rps),
      bare_ehp_rps: Math.round(m.bare_ehp.rps),
      bare_node_rps: Math.round(m.bare_node.rps),
      bare_ehp_plain_rps: Math.round(m.bare_ehp_plain.rps),
      direct_rps: Math.round(m.direct.rps),
      embedded_rps: Math.round(m.embedded.rps),
      gateway_minimal_rps: Math.round(m.gateway_minimal.rps),
      cold_rps: Math.round(m.cold.rps),
      ratio_to_bare_ehp: ratio(m.gateway.rps, m.bare_ehp.rps),
      ratio_to_bare_node: ratio(m.gateway.rps, m.bare_node.rps),
      // Against express-http-proxy on a server made the usual way, which re-parents each request (see expressBorn).
      ratio_to_bare_ehp_plain: ratio(m.gateway.rps, m.bare_ehp_plain.rps),
      embedded_ratio_to_bare_ehp: ratio(m.embedded.rps, m.bare_ehp.rps),
      audit_rate_limit_ratio: ratio(m.gateway.rps, m.gateway_minimal.rps),
      audit_ratio: ratio(m.gateway.rps, m.gateway_no_audit.rps),
      rate_limit_ratio: ratio(m.gateway.rps, m.gateway_no_rate_limit.rps),
      p99_added_ms_c1: Math.round((m.gateway_c1.p99 - m.direct_c1.p99) * 100) / 100,
      // Without audit and rate limit: what they add at one connection, where batches are smallest.
      p99_added_ms_c1_minimal: Math.round((m.gateway_minimal_c1.p99 - m.direct_c1.p99) * 100) / 100,
      audit_rate_limit_ratio_c1: ratio(m.gateway_c1.rps, m.gateway_minimal_c1.rps),
      // The same ratios from CPU per request: what one core sustains, unaffected by the machine's other load.
      gateway_cpu_us: Math.round(m.gateway.cpuUs),
      bare_ehp_cpu_us: Math.round(m.bare_ehp.cpuUs),
      bare_node_cpu_us: Math.round(m.bare_node.cpuUs),
      cpu_ratio_to_bare_ehp: ratio(m.bare_ehp.cpuUs, m.gateway.cpuUs),
      embedded_cpu_ratio_to_bare_ehp: ratio(m.bare_ehp.cpuUs, m.embedded.cpuUs),
      cpu_audit_rate_limit_ratio: ratio(m.gateway_minimal.cpuUs, m.gateway.cpuUs),
      errors: bad.length,
    };
    console.log(
      `\ntargets: full pipeline >= 0.85 of bare express-http-proxy: ${summary.ratio_to_bare_ehp >= 0.85 ? 'met' : 'missed'}; ` +
        `p99 added at 1 connection < 2 ms: ${summary.p99_added_ms_c1 < 2 ? 'met' : 'missed'}; ` +
        `audit and rate limit cost <= 10 %: ${summary.audit_rate_limit_ratio >= 0.9 ? 'met' : 'missed'}`,
    );
    if (bad.length) console.log(`non-2xx answers in: ${bad.map(([k]) => k).join(', ')}`);
    console.log(JSON.stringify(summary));
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:gateway: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
