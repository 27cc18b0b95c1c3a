/**
 * Policy benchmark: the gateway's authz decision (data.gateway.authz.decision, infra/policies)
 * with realistic input, evaluated in-process (against an allocation-free arithmetic loop of the
 * same length, measured in the same rounds: what the machine itself does to a task's tail) and
 * through the sidecar's HTTP API (1 and 10 keep-alive connections), against the sidecar's
 * GET /health in the same run as the baseline (and a bare node:http server, to show what loopback
 * HTTP costs on this machine at all). At each concurrency the HTTP targets alternate for the same
 * number of rounds as the in-process figures, after a warm-up, and the median round is reported.
 *
 *   npm run bench:policy     (BENCH_ROUNDS=5 BENCH_ITERATIONS=20000 BENCH_HTTP_REQUESTS=5000 by default)
 *
 * The npm script runs Node with the sidecar's production heap flags (a fixed 64 MiB young
 * generation, as infra/docker/policy-sidecar.Dockerfile), so both figures are the sidecar's.
 *
 * Decision logs ship to the audit queue from the sidecar's decision-log worker thread, as in
 * production. Every HTTP figure also carries `cpu_us_per_request`: the process's CPU time per
 * request (the load client's thread and the log worker included, so read it against bare_*),
 * the one figure a shared machine does not make noisy; the load average is printed with it. The
 * JSON line adds `decision_c10_p99_us` (target ≤ 3 ms) next to the c1 ratio to bare (≤ 2×).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { compileModules } from '@cloud-stack/rego';
import { POLICY_DECISION_PATH, type PolicyInput } from '@cloud-stack/contracts';
import { createLogger, startServer } from '@cloud-stack/service-kit';
import { loadDirectory, openPolicyServer, policyServerApp, readPolicyServerConfig } from '@cloud-stack/policy-server';
import { load, percentile, round, type LoadFigure } from './policy-load';
import { deletePrefix, redisAvailable } from './redis';

const POLICY_DIR = resolve(process.env.POLICY_DIR ?? 'infra/policies');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const HTTP_REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 5_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const input: PolicyInput = {
  request: { method: 'POST', host: 'api.cloud-stack.test', path: '/v1/agents/agent-7/execute', correlation_id: '01935c8e-7c1a-7000-8000-000000000001' },
  route: { id: 'agents.execute', params: { id: 'agent-7' }, permission: 'agent:execute', requires_governor: false, cost: 2 },
  subject: {
    authenticated: true,
    sub: 'user-42',
    tenant_id: 'tenant-acme',
    client_id: 'console',
    roles: ['analyst', 'developer'],
    is_governor: false,
    trial_mode: true,
    agent_id: 'agent-7',
  },
  budget: { monthly_spend: 41.5, cap: 100 },
};


/** One load run with the process's CPU time per request (server, client thread and decision-log worker alike). */
async function measured(options: Parameters<typeof load>[0]): Promise<LoadFigure & { readonly cpu_us_per_request: number }> {
  const before = process.cpuUsage();
  const figure = await load(options);
  const cpu = process.cpuUsage(before);
  return { ...figure, cpu_us_per_request: round((cpu.user + cpu.system) / (options.requests + options.warmup), 1) };
}

interface Round {
  readonly decisions_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
}

/** Nanoseconds of each of `n` calls of `op`. */
function timings(op: () => void, n: number): Float64Array {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    op();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return samples;
}

function summarize(samples: Float64Array): Round {
  const total = samples.reduce((a, b) => a + b, 0);
  const sorted = Array.from(samples.sort());
  return {
    decisions_per_s: Math.round(samples.length / (total / 1e9)),
    p50_us: round(percentile(sorted, 50) / 1e3, 2),
    p99_us: round(percentile(sorted, 99) / 1e3, 2),
  };
}

let sink = 0;
/** An allocation-free arithmetic loop whose median run takes about `targetNs`. */
function calibratedSpin(targetNs: number): () => void {
  let n = 1000;
  const spin = () => {
    let x = sink;
    for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
    sink = x;
  };
  for (let attempt = 0; attempt < 8; attempt++) {
    const p50 = percentile(Array.from(timings(spin, 2_000)).sort((a, b) => a - b), 50);
    n = Math.max(1, Math.round((n * targetNs) / p50));
  }
  return spin;
}

async function main(): Promise<void> {
  // In-process: the compiled policy set, one evaluation per iteration.
  const { modules, data } = await loadDirectory(POLICY_DIR);
  const set = compileModules(modules.map((m) => ({ file: m.id, source: m.source })));
  const path = [...POLICY_DECISION_PATH];
  const decide = () => void set.evaluate(path, { input, data });
  for (let i = 0; i < 20_000; i++) decide();
  // The baseline: a loop of arithmetic that takes as long as one decision (calibrated here) and
  // allocates nothing. Its p99 is what this machine does to any task of that length (timer ticks,
  // a neighbour on the same core); the decision's p99 is read against it.
  const spin = calibratedSpin(percentile(Array.from(timings(decide, 5_000)).sort((a, b) => a - b), 50));
  // Rounds alternate decision and baseline, so both see the same conditions; the median round
  // (by decision p99) is reported, every round's p99 is printed too.
  const rounds: Round[] = [];
  const baseline: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(summarize(timings(decide, ITERATIONS)));
    baseline.push(summarize(timings(spin, ITERATIONS)));
  }
  const median = [...rounds.keys()].sort((a, b) => rounds[a]!.p99_us - rounds[b]!.p99_us)[Math.floor(ROUNDS / 2)]!;
  const local = rounds[median]!;
  const spinRound = baseline[median]!;
  const outcome = set.evaluate(path, { input, data });

  // Through HTTP: the sidecar's own app (policyServerApp), decision logs on.
  const logger = createLogger('policy-bench', process.env.LOG_LEVEL ?? 'warn');
  const withRedis = await redisAvailable(REDIS_URL);
  const prefix = `bench:policy:${randomBytes(4).toString('hex')}`;
  const config = readPolicyServerConfig({
    POLICY_DIR,
    POLICY_WATCH: 'false',
    DECISION_LOG_SINK: withRedis ? 'bullmq' : 'none',
    REDIS_URL,
    AUDIT_QUEUE_PREFIX: prefix,
  });
  const sidecar = async (sink: 'bullmq' | 'none') => {
    const server = await openPolicyServer({ ...config, DECISION_LOG_SINK: sink }, { logger });
    const running = await startServer(policyServerApp(server, logger), { port: 0, host: '127.0.0.1', logger, handleSignals: false });
    const close = async (): Promise<void> => {
      await running.close();
      await server.close();
    };
    return { base: `http://127.0.0.1:${running.port}`, close };
  };
  const logged = await sidecar(withRedis ? 'bullmq' : 'none');
  // The same sidecar without decision logs: what shipping them costs.
  const unlogged = await sidecar('none');
  const base = logged.base;
  // A bare node:http server answering `{}`: what this machine's loopback HTTP costs at all.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}\n'));
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/`;
  const body = JSON.stringify({ input });
  const loadBefore = loadavg();
  const figures: Array<LoadFigure & { readonly cpu_us_per_request: number }> = [];
  /** p99 of every round per target, by connections (the figure printed is the median round). */
  const roundP99s: Record<number, Record<string, number[]>> = { 1: {}, 10: {} };
  try {
    const decisionPath = `/v1/data/${path.join('/')}`;
    for (const connections of [1, 10]) {
      const requests = connections === 1 ? HTTP_REQUESTS : HTTP_REQUESTS * 2;
      const targets = [
        { name: `bare_c${connections}`, url: bareUrl, method: 'GET' as const },
        { name: `health_c${connections}`, url: `${base}/health`, method: 'GET' as const },
        { name: `decision_c${connections}`, url: `${base}${decisionPath}`, method: 'POST' as const, body },
        { name: `decision_nolog_c${connections}`, url: `${unlogged.base}${decisionPath}`, method: 'POST' as const, body },
      ];
      // Warm every target up first (long enough for the JIT to settle: the figures are the steady
      // state); the targets then alternate for ROUNDS rounds, like the in-process figures, and the
      // median round (by p99) of each is reported: one round of a tail figure is at the mercy of
      // a shared machine's worst second.
      for (const t of targets) await load({ ...t, connections, requests: Math.max(2_000, requests / 2), warmup: 0 });
      const results = new Map<string, Array<LoadFigure & { readonly cpu_us_per_request: number }>>(targets.map((t) => [t.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of targets) results.get(t.name)!.push(await measured({ ...t, connections, requests, warmup: 200 }));
      }
      for (const [name, list] of results) {
        const byP99 = [...list].sort((a, b) => a.p99_us - b.p99_us);
        figures.push(byP99[Math.floor(byP99.length / 2)]!);
        roundP99s[connections]![name] = list.map((f) => f.p99_us);
      }
    }
  } finally {
    bare.close();
    await logged.close();
    await unlogged.close();
    if (withRedis) await deletePrefix(REDIS_URL, prefix);
  }

  const byName = Object.fromEntries(figures.map((f) => [f.name, f]));
  const ratio = (a: number, b: number) => round(a / b, 2);
  console.log(`policy benchmark: ${POLICY_DIR}, decision logs ${withRedis ? 'on (BullMQ, Redis)' : 'off (no Redis)'}`);
  console.log(`decision result: ${JSON.stringify(outcome.defined ? outcome.result : undefined)}`);
  console.log('');
  console.log(`in-process        ${String(local.decisions_per_s).padStart(9)} decisions/s   p50 ${local.p50_us} µs   p99 ${local.p99_us} µs   (median of ${ROUNDS} rounds of ${ITERATIONS}; target p99 < 50 µs)`);
  console.log(`                  p99 of each round: ${rounds.map((r) => r.p99_us).join(', ')} µs`);
  console.log(`baseline          arithmetic loop of the same length, same rounds: p50 ${spinRound.p50_us} µs   p99 ${spinRound.p99_us} µs   (each round: ${baseline.map((r) => r.p99_us).join(', ')} µs)`);
  for (const f of figures) {
    const each = roundP99s[f.connections]?.[f.name] ? `   (p99 of each round: ${roundP99s[f.connections]![f.name]!.join(', ')})` : '';
    console.log(`${f.name.padEnd(17)} ${String(f.rps).padStart(9)} req/s         p50 ${f.p50_us} µs   p99 ${f.p99_us} µs   CPU ${f.cpu_us_per_request} µs/req   non-2xx ${f.non2xx}${each}`);
  }
  const ratios = {
    decision_vs_health_p50_c1: ratio(byName.decision_c1!.p50_us, byName.health_c1!.p50_us),
    decision_vs_health_p99_c1: ratio(byName.decision_c1!.p99_us, byName.health_c1!.p99_us),
    decision_vs_health_rps_c1: ratio(byName.decision_c1!.rps, byName.health_c1!.rps),
    decision_vs_health_rps_c10: ratio(byName.decision_c10!.rps, byName.health_c10!.rps),
    health_vs_bare_p50_c1: ratio(byName.health_c1!.p50_us, byName.bare_c1!.p50_us),
    decision_vs_bare_p99_c1: ratio(byName.decision_c1!.p99_us, byName.bare_c1!.p99_us),
    decision_logs_cost_p50_c1: ratio(byName.decision_c1!.p50_us, byName.decision_nolog_c1!.p50_us),
    decision_logs_cost_p99_c10: ratio(byName.decision_c10!.p99_us, byName.decision_nolog_c10!.p99_us),
    http_vs_inprocess_p50_c1: ratio(byName.decision_c1!.p50_us, local.p50_us),
    inprocess_vs_baseline_p99: ratio(local.p99_us, spinRound.p99_us),
  };
  const loadAfter = loadavg();
  const c1WithinTwiceBare = byName.decision_c1!.p99_us <= 2 * byName.bare_c1!.p99_us;
  const c10Within3ms = byName.decision_c10!.p99_us <= 3_000;
  console.log('');
  console.log(`CPU µs per request is the whole process's (server, load client thread, decision-log worker): compare it with bare_*. Load average 1/5/15 min: before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`ratios: ${Object.entries(ratios).map(([k, v]) => `${k}=${v}`).join('  ')}`);
  console.log(`targets: in-process p99 < 50 µs: ${local.p99_us < 50 ? 'met' : 'MISSED'}; HTTP p99 < 500 µs at 1 connection: ${byName.decision_c1!.p99_us < 500 ? 'met' : 'MISSED'}; decision p99 at 1 connection ≤ 2× bare: ${c1WithinTwiceBare ? 'met' : 'MISSED'}; decision p99 at 10 connections ≤ 3 ms: ${c10Within3ms ? 'met' : 'MISSED'}`);
  console.log(
    JSON.stringify({
      bench: 'policy',
      decision_logs: withRedis,
      in_process: { ...local, rounds },
      baseline_same_length: { p50_us: spinRound.p50_us, p99_us: spinRound.p99_us, rounds: baseline.map((r) => r.p99_us) },
      http: figures,
      http_c1_round_p99s: roundP99s[1],
      http_c10_round_p99s: roundP99s[10],
      ratios,
      targets_met: { in_process_p99: local.p99_us < 50, http_p99_c1: byName.decision_c1!.p99_us < 500, decision_c1_p99_within_2x_bare: c1WithinTwiceBare, decision_c10_p99_3ms: c10Within3ms },
      decision_c10_p99_us: byName.decision_c10!.p99_us,
      cpu_us_per_decision_c10: byName.decision_c10!.cpu_us_per_request,
      cpu_us_per_request_bare_c10: byName.bare_c10!.cpu_us_per_request,
      loadavg: { before: loadBefore.map((l) => round(l, 2)), after: loadAfter.map((l) => round(l, 2)) },
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
