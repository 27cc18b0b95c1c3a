/**
 * Identity as the benchmark measures it, in its own process: the service's own composition
 * (identityHttp) on a fresh database, the demo seed loaded. Prints one JSON line when it listens:
 * `{url, secret, tokens}` — the gateway client's secret and a file of distinct access tokens (for
 * the uncached path). On SIGTERM prints what the client-authentication cache did, then stops,
 * dropping the database.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@cloud-stack/db';
import { createLogger, MetricsRegistry, startServer } from '@cloud-stack/service-kit';
import { identityHttp, loadSeed, openIdentity, readIdentityConfig, readSeedFile, scryptParams } from '@cloud-stack/identity-core';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DISTINCT_TOKENS = Number(process.env.BENCH_DISTINCT_TOKENS ?? 30_000);

const logger = createLogger('identity-bench', process.env.LOG_LEVEL ?? 'warn');
const database = await createTestDatabase(ADMIN_URL, 'bench_identity');
const config = readIdentityConfig({
  DATABASE_URL: database.url,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `bench:identity:${randomBytes(4).toString('hex')}:`,
  // No admin actions are measured: no audit queue (it would leave BullMQ's keys behind).
  AUDIT_EVENTS: 'none',
  // As in production: private keys sealed at rest (opened once at start-up, so no cost per token).
  SIGNING_KEY_SECRETS: randomBytes(24).toString('base64url'),
  SCRYPT_LOG_N: process.env.SCRYPT_LOG_N,
  CLIENT_AUTH_CACHE_TTL_SECONDS: process.env.CLIENT_AUTH_CACHE_TTL_SECONDS,
});
const ctx = await openIdentity(config, { logger, metrics: new MetricsRegistry() });
const server = await startServer(identityHttp(ctx, logger), { port: 0, host: '127.0.0.1', logger, handleSignals: false });
const seed = await loadSeed(ctx.db, await readSeedFile(), { scrypt: scryptParams(config) });
const gateway = seed.clients.find((c) => c.client_id === 'gateway')!;

// Distinct valid tokens, more than the verified-token cache holds, so cycling through them
// verifies an ES256 signature on every call.
const tokens: string[] = [];
for (let i = 0; i < DISTINCT_TOKENS; i++) {
  tokens.push(
    ctx.accessTokens.issue({ sub: `bench-${i}`, client_id: 'gateway', scope: 'api', tenant_id: 'platform', roles: [], is_governor: false, trial_mode: false, agent_id: null, email: null }).token,
  );
}
const tokenFile = join(tmpdir(), `bench-identity-tokens-${process.pid}.json`);
await writeFile(tokenFile, JSON.stringify(tokens));

process.once('SIGTERM', () => {
  void (async () => {
    await server.close();
    // What the client-authentication cache did over the run: a stampede shows as many scrypt runs.
    console.log(JSON.stringify({ client_auth: ctx.clientAuth.stats, scrypt_verifications: ctx.hasher.verifications }));
    await ctx.close();
    await database.drop();
    process.exit(0);
  })();
});
console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}`, secret: gateway.client_secret, tokens: tokenFile, scrypt_log_n: config.SCRYPT_LOG_N, client_auth_ttl_s: config.CLIENT_AUTH_CACHE_TTL_SECONDS }));
