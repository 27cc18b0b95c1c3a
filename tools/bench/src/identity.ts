/**
 * Identity benchmark: introspection and client_credentials tokens against oidc-provider 8 (opaque
 * tokens, and JWT access tokens) measured in the same run, in alternating rounds, each server in
 * its own process. On a machine with two or more cores the servers run on core 0 and the load
 * generator (autocannon, this process) on core 1.
 *
 *   npm run bench:identity
 *     BENCH_ROUNDS=3 BENCH_DURATION=10 BENCH_CONNECTIONS=50   alternating rounds, medians reported
 *     BENCH_STEADY=45 CLIENT_AUTH_CACHE_TTL_SECONDS=10         one steady introspection run crossing
 *                                                              several client-cache lifetimes: the
 *                                                              worst second over the median second
 *
 * Targets: introspection ≥ 0.8 of oidc-provider's, client_credentials tokens ≥ 0.8 of
 * oidc-provider's JWT tokens, and no second of the steady run below half the median.
 *
 * On a shared machine the load generator (JavaScript, on a core others use too) is often the
 * limit, not the server: each run also reports the server's CPU time per answered request and the
 * share of a core it used, from /proc. Ratios of CPU per request, and the steady run's answers per
 * CPU-second, do not move with other work on the machine; throughput does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const STEADY = Number(process.env.BENCH_STEADY ?? 45);
const CLIENT_TTL = process.env.CLIENT_AUTH_CACHE_TTL_SECONDS ?? '10';
const OIDC_SECRET = 'bench-oidc-provider-secret';

interface Figure {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bad: number;
  /** CPU time of the server process per answered request (µs; undefined where /proc is missing). */
  readonly cpuUs: number | undefined;
  /** Share of one core the server process used during the run: well below 1, the load generator was the limit. */
  readonly cpuShare: number | undefined;
  /** Responses per whole second of the run. */
  readonly seconds: number[];
  /** The server's CPU seconds in each of those seconds (read at each tick). */
  readonly cpuPerSecond: number[];
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** A different body per request. */
  readonly nextBody?: () => string;
  /** The server process, for its CPU time. */
  readonly pid?: number;
}

const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process so far (Linux /proc), or undefined. */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PIN = availableParallelism() >= 2 && hasTaskset();

interface Server {
  readonly child: ChildProcess;
  readonly info: Record<string, unknown>;
  /** JSON lines the server printed after its ready line. */
  readonly reports: Record<string, unknown>[];
}

function startServer(file: string, env: Record<string, string>): Promise<Server> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const args = ['--import', 'tsx', script];
  const child = PIN ? spawn('taskset', ['-c', '0', process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const reports: Record<string, unknown>[] = [];
  let ready = false;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const info = JSON.parse(line) as Record<string, unknown>;
        if (ready) reports.push(info);
        else if (typeof info.url === 'string') {
          ready = true;
          resolve({ child, info, reports });
        }
      } catch {
        // Not the ready line (a log line); keep reading.
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it listened`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function run(target: Target, duration: number, connections = CONNECTIONS): Promise<Figure> {
  const seconds: number[] = [];
  const cpuPerSecond: number[] = [];
  const cpuBefore = await cpuSeconds(target.pid);
  let lastCpu = cpuBefore;
  const figure = await new Promise<Omit<Figure, 'cpuUs' | 'cpuShare'>>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections,
        duration,
        method: target.method,
        headers: target.headers,
        body: target.body,
        ...(target.nextBody ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: target.nextBody!() }) }] } : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bad: result.non2xx + result.errors + result.timeouts, seconds, cpuPerSecond });
      },
    );
    // autocannon passes each second's counts to 'tick'; its typings leave the argument out.
    (instance as NodeJS.EventEmitter).on('tick', (tick: { counter: number }) => {
      seconds.push(tick.counter);
      const index = cpuPerSecond.push(0) - 1;
      void cpuSeconds(target.pid).then((now) => {
        if (now !== undefined && lastCpu !== undefined) cpuPerSecond[index] = now - lastCpu;
        lastCpu = now;
      });
    });
  });
  const cpuAfter = await cpuSeconds(target.pid);
  const answered = figure.rps * duration;
  const used = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  const cpuUs = used === undefined || answered === 0 ? undefined : (used * 1e6) / answered;
  return { ...figure, cpuUs, cpuShare: used === undefined ? undefined : used / duration };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function load(): string {
  const [one, five, fifteen] = loadavg();
  return `load average ${one!.toFixed(2)}, ${five!.toFixed(2)}, ${fifteen!.toFixed(2)}`;
}

async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  console.log(`identity bench: ${ROUNDS} rounds × ${DURATION}s at ${CONNECTIONS} connections, steady ${STEADY}s; ${PIN ? 'servers on core 0, load on core 1' : 'not pinned'}; ${load()}`);

  const identity = await startServer('./identity/identity-server.ts', { CLIENT_AUTH_CACHE_TTL_SECONDS: CLIENT_TTL });
  const oidc = await startServer('./identity/oidc-provider-server.ts', { BENCH_CLIENT_ID: 'gateway', BENCH_CLIENT_SECRET: OIDC_SECRET });
  const tokenFile = String(identity.info.tokens);
  let summary: Record<string, unknown>;
  try {
    const id = String(identity.info.url);
    const op = String(oidc.info.url);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const idAuth = { ...form, authorization: `Basic ${Buffer.from(`gateway:${String(identity.info.secret)}`).toString('base64')}` };
    const opAuth = { ...form, authorization: `Basic ${Buffer.from(`gateway:${OIDC_SECRET}`).toString('base64')}` };

    const tokens = JSON.parse(await readFile(tokenFile, 'utf8')) as string[];
    const token = async (url: string, headers: Record<string, string>) => {
      const res = await fetch(url, { method: 'POST', headers, body: 'grant_type=client_credentials' });
      const answer = (await res.json()) as { access_token?: string };
      if (!answer.access_token) throw new Error(`no token from ${url}: ${JSON.stringify(answer)}`);
      return answer.access_token;
    };
    const idToken = await token(`${id}/oauth/token`, idAuth);
    const opToken = await token(`${op}/token`, opAuth);
    for (const [base, path, headers, t] of [
      [id, '/oauth/introspect', idAuth, idToken],
      [op, '/token/introspection', opAuth, opToken],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: `token=${t}` });
      if (!((await res.json()) as { active?: boolean }).active) throw new Error(`the benchmark token of ${base} is not active`);
    }

    // taskset execs node, so the child's pid is the server's.
    const idPid = identity.child.pid;
    const opPid = oidc.child.pid;
    let next = 0;
    const targets = {
      introspect: { name: 'identity  POST /oauth/introspect (same JWT)', url: `${id}/oauth/introspect`, method: 'POST', headers: idAuth, body: `token=${idToken}`, pid: idPid },
      oidcIntrospect: { name: 'oidc-provider introspection (opaque)', url: `${op}/token/introspection`, method: 'POST', headers: opAuth, body: `token=${opToken}`, pid: opPid },
      uncached: { name: 'identity  POST /oauth/introspect (fresh JWT)', url: `${id}/oauth/introspect`, method: 'POST', headers: idAuth, nextBody: () => `token=${tokens[next++ % tokens.length]}`, pid: idPid },
      token: { name: 'identity  client_credentials token', url: `${id}/oauth/token`, method: 'POST', headers: idAuth, body: 'grant_type=client_credentials', pid: idPid },
      oidcToken: { name: 'oidc-provider client_credentials (opaque)', url: `${op}/token`, method: 'POST', headers: opAuth, body: 'grant_type=client_credentials', pid: opPid },
      oidcJwt: { name: 'oidc-provider client_credentials (JWT)', url: `${op}/token`, method: 'POST', headers: opAuth, body: 'grant_type=client_credentials&resource=urn%3Abench%3Ajwt', pid: opPid },
      health: { name: 'identity  GET /health', url: `${id}/health`, method: 'GET', pid: idPid },
    } satisfies Record<string, Target>;
    type Name = keyof typeof targets;
    const order: Name[] = ['introspect', 'oidcIntrospect', 'token', 'oidcJwt', 'uncached', 'oidcToken', 'health'];
    const tail: Name[] = ['introspect', 'oidcIntrospect', 'health'];

    for (const name of order) await run(targets[name], 2);

    const figures = new Map<string, Figure[]>();
    const record = (key: string, f: Figure) => figures.set(key, [...(figures.get(key) ?? []), f]);
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}/${ROUNDS}: ${load()}`);
      for (const name of order) {
        const f = await run(targets[name], DURATION);
        record(name, f);
        console.log(`  ${targets[name].name.padEnd(46)} ${f.rps.toFixed(0).padStart(6)} req/s  p50 ${f.p50.toFixed(1).padStart(5)} ms  p99 ${f.p99.toFixed(1).padStart(5)} ms  cpu ${f.cpuUs === undefined ? '?' : f.cpuUs.toFixed(0).padStart(4)} µs/req (${f.cpuShare === undefined ? '?' : f.cpuShare.toFixed(2)} core)${f.bad ? `  bad ${f.bad}` : ''}`);
      }
      for (const name of tail) {
        const f = await run(targets[name], Math.max(2, DURATION / 2), 1);
        record(`${name}@c1`, f);
        console.log(`  ${`${targets[name].name} c1`.padEnd(46)} ${f.rps.toFixed(0).padStart(6)} req/s  p50 ${f.p50.toFixed(2).padStart(5)} ms  p99 ${f.p99.toFixed(2).padStart(5)} ms${f.bad ? `  bad ${f.bad}` : ''}`);
      }
    }

    console.log(`steady: identity introspection for ${STEADY}s (client cache lifetime ${CLIENT_TTL}s): ${load()}`);
    const steady = await run(targets.introspect, STEADY);
    // The first and last seconds are partial.
    const whole = steady.seconds.slice(1, -1);
    const dip = whole.length ? Math.min(...whole) / median(whole) : 0;
    console.log(`  per second: ${whole.join(' ')}`);
    // Answers per CPU-second of the server, each second: other work on the machine slows the
    // server and the load generator alike and leaves this alone; a stall inside identity (every
    // caller hashing a secret at once) does not.
    const perCpu = steady.cpuPerSecond.slice(1, -1).flatMap((c, i) => (c > 0 ? [whole[i]! / c] : []));
    const cpuDip = perCpu.length ? Math.min(...perCpu) / median(perCpu) : null;
    console.log(`  per CPU-second: ${perCpu.map((v) => v.toFixed(0)).join(' ')}`);

    const med = (key: string, pick: (f: Figure) => number) => median((figures.get(key) ?? []).map(pick));
    const rps = (key: Name) => Math.round(med(key, (f) => f.rps));
    const cpu = (key: Name) => {
      const values = (figures.get(key) ?? []).flatMap((f) => (f.cpuUs === undefined ? [] : [f.cpuUs]));
      return values.length ? Math.round(median(values)) : null;
    };
    const ratio = rps('introspect') / rps('oidcIntrospect');
    const tokenRatio = rps('token') / rps('oidcJwt');
    const bad = [...figures.values()].flat().reduce((n, f) => n + f.bad, steady.bad);
    const verdict = (ok: boolean) => (ok ? 'OK' : 'BELOW TARGET');
    // CPU per request does not depend on how much of the cores others leave to the load generator.
    const cpuRatio = (ours: Name, theirs: Name) => {
      const a = cpu(ours);
      const b = cpu(theirs);
      return a && b ? Number((b / a).toFixed(3)) : null;
    };
    console.log(`introspection / oidc-provider's: ${ratio.toFixed(2)} (target >= 0.8) ${verdict(ratio >= 0.8)}`);
    console.log(`  by CPU per request (oidc-provider's over identity's): ${cpuRatio('introspect', 'oidcIntrospect') ?? '?'}`);
    console.log(`client_credentials / oidc-provider's JWT tokens: ${tokenRatio.toFixed(2)} (target >= 0.8) ${verdict(tokenRatio >= 0.8)}`);
    console.log(`  by CPU per request (oidc-provider's over identity's): ${cpuRatio('token', 'oidcJwt') ?? '?'}`);
    console.log(`worst second / median second (steady): ${dip.toFixed(2)} (target >= 0.5) ${verdict(dip >= 0.5)}`);
    console.log(`  answers per CPU-second, worst / median: ${cpuDip === null ? '?' : cpuDip.toFixed(2)}`);
    summary = {
      bench: 'identity',
      rounds: ROUNDS,
      duration_s: DURATION,
      connections: CONNECTIONS,
      pinned: PIN,
      scrypt_log_n: identity.info.scrypt_log_n,
      client_auth_ttl_s: identity.info.client_auth_ttl_s,
      introspect_rps: rps('introspect'),
      introspect_p50_ms: med('introspect', (f) => f.p50),
      introspect_p99_ms: med('introspect', (f) => f.p99),
      introspect_c1_p99_ms: med('introspect@c1', (f) => f.p99),
      oidc_introspect_rps: rps('oidcIntrospect'),
      oidc_introspect_p50_ms: med('oidcIntrospect', (f) => f.p50),
      oidc_introspect_p99_ms: med('oidcIntrospect', (f) => f.p99),
      oidc_introspect_c1_p99_ms: med('oidcIntrospect@c1', (f) => f.p99),
      ratio_to_oidc_provider: Number(ratio.toFixed(3)),
      introspect_cpu_us: cpu('introspect'),
      oidc_introspect_cpu_us: cpu('oidcIntrospect'),
      cpu_ratio_to_oidc_provider: cpuRatio('introspect', 'oidcIntrospect'),
      introspect_uncached_rps: rps('uncached'),
      introspect_uncached_p99_ms: med('uncached', (f) => f.p99),
      uncached_ratio_to_oidc_provider: Number((rps('uncached') / rps('oidcIntrospect')).toFixed(3)),
      token_rps: rps('token'),
      token_p99_ms: med('token', (f) => f.p99),
      token_cpu_us: cpu('token'),
      oidc_token_cpu_us: cpu('oidcJwt'),
      token_cpu_ratio_to_oidc_provider: cpuRatio('token', 'oidcJwt'),
      // The comparison the target names: oidc-provider's JWT access tokens (opaque ones beside).
      oidc_token_rps: rps('oidcJwt'),
      oidc_opaque_token_rps: rps('oidcToken'),
      token_ratio_to_oidc_provider: Number(tokenRatio.toFixed(3)),
      health_rps: rps('health'),
      health_cpu_us: cpu('health'),
      health_c1_p99_ms: med('health@c1', (f) => f.p99),
      steady_s: STEADY,
      steady_rps: Math.round(steady.rps),
      max_1s_dip_ratio: Number(dip.toFixed(3)),
      max_1s_dip_ratio_per_cpu: cpuDip === null ? null : Number(cpuDip.toFixed(3)),
      bad_responses: bad,
    };
  } finally {
    await Promise.all([stop(identity.child), stop(oidc.child)]);
    await rm(tokenFile, { force: true });
  }
  // Printed once the server has stopped: it reports what its client-authentication cache did.
  const exit = identity.reports[0] ?? {};
  console.log(`identity's client-authentication cache over the run: ${JSON.stringify(exit)}`);
  console.log(JSON.stringify({ ...summary, client_auth: exit.client_auth ?? null, scrypt_verifications: exit.scrypt_verifications ?? null }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:identity failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
