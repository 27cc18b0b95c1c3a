/**
 * Identity benchmark: introspection and token issuance against GET /health of the same
 * in-process service, on a fresh database that is dropped at the end.
 *
 *   npm run bench:identity            (BENCH_DURATION=6 BENCH_CONNECTIONS=10 by default)
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { createTestDatabase } from '@cloud-stack/db';
import { createApp, createLogger, MetricsRegistry, startServer } from '@cloud-stack/service-kit';
import {
  adminRouter,
  discoveryRouter,
  loadSeed,
  oauthRouter,
  openIdentity,
  readIdentityConfig,
  readSeedFile,
  scryptParams,
} from '@cloud-stack/identity-core';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

interface Figure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function run(name: string, url: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, duration = DURATION): Promise<Figure> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    // Requests fire from a worker thread, so the server's event loop has the main thread to itself.
    workers: 1,
  });
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function main(): Promise<void> {
  const logger = createLogger('identity-bench', process.env.LOG_LEVEL ?? 'warn');
  const database = await createTestDatabase(ADMIN_URL, 'bench_identity');
  const prefix = `bench:identity:${randomBytes(4).toString('hex')}:`;
  const config = readIdentityConfig({
    DATABASE_URL: database.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    // No admin actions are measured: no audit queue (it would leave BullMQ's keys behind).
    AUDIT_EVENTS: 'none',
    // As in production: private keys sealed at rest (opened once at start-up, so no cost per token).
    SIGNING_KEY_SECRETS: randomBytes(24).toString('base64url'),
    SCRYPT_LOG_N: process.env.SCRYPT_LOG_N,
  });
  const metrics = new MetricsRegistry();
  const ctx = await openIdentity(config, { logger, metrics });
  try {
    const app = createApp({
      name: 'identity',
      logger,
      metrics,
      checks: ctx.checks,
      bodyLimit: config.BODY_LIMIT,
      mount: (app) => {
        app.use(discoveryRouter(ctx));
        app.use('/oauth', oauthRouter(ctx));
        app.use('/v1', adminRouter(ctx));
      },
    });
    const server = await startServer(app, { port: 0, host: '127.0.0.1', logger, handleSignals: false });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const seed = await loadSeed(ctx.db, await readSeedFile(), { scrypt: scryptParams(config) });
      const gateway = seed.clients.find((c) => c.client_id === 'gateway')!;
      const customer = seed.users.find((u) => u.email === 'customer@acme.example')!;
      const basic = `Basic ${Buffer.from(`${gateway.client_id}:${gateway.client_secret}`).toString('base64')}`;
      const form = { 'content-type': 'application/x-www-form-urlencoded' };

      const login = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: customer.email, password: customer.password }),
      });
      const { access_token } = (await login.json()) as { access_token: string };
      const check = await fetch(`${base}/oauth/introspect`, { method: 'POST', headers: { ...form, authorization: basic }, body: new URLSearchParams({ token: access_token }) });
      if (!((await check.json()) as { active: boolean }).active) throw new Error('the benchmark token is not active');

      const introspect = { method: 'POST' as const, headers: { ...form, authorization: basic }, body: new URLSearchParams({ token: access_token }).toString() };
      const clientCredentials = { method: 'POST' as const, headers: { ...form, authorization: basic }, body: 'grant_type=client_credentials' };
      const password = {
        method: 'POST' as const,
        headers: form,
        body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: customer.email, password: customer.password }).toString(),
      };

      console.log(`identity bench: ${CONNECTIONS} connections, ${DURATION}s per run, scrypt N=2^${config.SCRYPT_LOG_N} r=${config.SCRYPT_R} p=${config.SCRYPT_P}`);
      // Warm up (JIT, pools, keep-alive sockets, the client-authentication cache).
      await run('warm-up', `${base}/health`, {}, 1);
      await run('warm-up', `${base}/oauth/introspect`, introspect, 1);

      const figures: Figure[] = [];
      const measure = async (name: string, url: string, options: Parameters<typeof run>[2]) => {
        const f = await run(name, url, options);
        figures.push(f);
        console.log(`${name.padEnd(46)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${String(f.p50).padStart(4)} ms   p99 ${String(f.p99).padStart(4)} ms${f.non2xx || f.errors ? `   non-2xx ${f.non2xx} errors ${f.errors}` : ''}`);
        return f;
      };
      const health = await measure('GET /health', `${base}/health`, {});
      const intro = await measure('POST /oauth/introspect (active JWT)', `${base}/oauth/introspect`, introspect);
      // The same, with the verified-token cache off: one ES256 signature check per request.
      const cacheLimit = ctx.accessTokens.cacheLimit;
      ctx.accessTokens.cacheLimit = 0;
      const introNoCache = await measure('POST /oauth/introspect (no verify cache)', `${base}/oauth/introspect`, introspect);
      ctx.accessTokens.cacheLimit = cacheLimit;
      const cc = await measure('POST /oauth/token client_credentials', `${base}/oauth/token`, clientCredentials);
      const pw = await measure('POST /oauth/token password (scrypt)', `${base}/oauth/token`, password);
      // Let requests still inside scrypt finish before the pool closes.
      await new Promise((r) => setTimeout(r, 2_000));

      const ratio = intro.rps / health.rps;
      const ratioNoCache = introNoCache.rps / health.rps;
      console.log(`introspect/health throughput ratio: ${ratio.toFixed(2)} (target >= 0.50) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);
      console.log(`introspect (no verify cache)/health ratio: ${ratioNoCache.toFixed(2)}`);
      console.log(
        JSON.stringify({
          bench: 'identity',
          connections: CONNECTIONS,
          duration_s: DURATION,
          scrypt_log_n: config.SCRYPT_LOG_N,
          health_rps: Math.round(health.rps),
          introspect_rps: Math.round(intro.rps),
          introspect_p50_ms: intro.p50,
          introspect_p99_ms: intro.p99,
          introspect_to_health_ratio: Number(ratio.toFixed(3)),
          introspect_nocache_rps: Math.round(introNoCache.rps),
          introspect_nocache_p99_ms: introNoCache.p99,
          introspect_nocache_to_health_ratio: Number(ratioNoCache.toFixed(3)),
          client_credentials_rps: Math.round(cc.rps),
          client_credentials_p99_ms: cc.p99,
          password_rps: Math.round(pw.rps),
          password_p99_ms: pw.p99,
          non2xx: figures.reduce((n, f) => n + f.non2xx, 0),
          errors: figures.reduce((n, f) => n + f.errors, 0),
        }),
      );
    } finally {
      await server.close();
    }
  } finally {
    await ctx.close();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:identity failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
