import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startOtlpReceiver, useRedisPrefix, useTestDatabase, type OtlpReceiver, type ReceivedSpan } from '@cloud-stack/test-kit';
import { bundleApp, REPO_ROOT } from '../src/bundle-app';

/**
 * What ships: each app bundled as its image bundles it (tools/dev/src/bundle-app.ts), each bundle
 * run with plain node as the image's CMD runs it, exporting spans to an OTLP receiver.
 */
const APPS = ['identity', 'gateway', 'policy-sidecar', 'audit-writer'] as const;
type App = (typeof APPS)[number];
/** The apps with a PostgreSQL database of their own (each migrates it at start-up). */
const WITH_POSTGRES = ['identity', 'gateway', 'audit-writer'] as const satisfies readonly App[];
const EXPRESS_HEALTH: readonly App[] = ['gateway', 'policy-sidecar', 'audit-writer'];
/** Four services starting at once on a busy two-core runner take their time. */
const STARTUP_MS = 180_000;

// OTLP SpanKind values in the JSON encoding.
const SERVER = 2;
const CLIENT = 3;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

function run(app: App, outdir: string, port: number, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--enable-source-maps', join(outdir, app, 'main.js')], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, url: `http://127.0.0.1:${port}`, output: () => out };
}

async function stop(running: Running): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Status of GET {url}/health once the process answers at all; fails when it exits first. */
async function healthStatus(app: App, running: Running, timeoutMs = STARTUP_MS - 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`${app} bundle exited with code ${running.child.exitCode}:\n${running.output()}`);
    const status = await fetch(`${running.url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status,
      () => undefined,
    );
    if (status !== undefined) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${app} bundle did not answer /health within ${timeoutMs} ms:\n${running.output()}`);
}

const dbName = (url: string) => new URL(url).pathname.slice(1);

describe('each app as bundled for its image', () => {
  const outdir = join(REPO_ROOT, 'tmp', `bundles-${randomBytes(4).toString('hex')}`);
  const dbs = { identity: useTestDatabase('bundle_identity'), gateway: useTestDatabase('bundle_gateway'), 'audit-writer': useTestDatabase('bundle_audit') } satisfies Record<(typeof WITH_POSTGRES)[number], unknown>;
  const redis = useRedisPrefix('bundles');
  const running = new Map<App, Running>();
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    // Inside the repository, so the bundles' npm imports resolve from its node_modules.
    // allSettled: no build may still be writing when afterAll removes the folder.
    const builds = await Promise.allSettled(APPS.map((app) => bundleApp(join(REPO_ROOT, 'apps', app), join(outdir, app))));
    const failed = builds.find((b) => b.status === 'rejected');
    if (failed) throw failed.reason;
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const ports = Object.fromEntries(await Promise.all(APPS.map(async (app) => [app, await freePort()] as const))) as Record<App, number>;
    const identityUrl = `http://127.0.0.1:${ports.identity}`;
    const queuePrefix = `${redis.prefix}:bull`;
    const env: Record<App, Record<string, string>> = {
      identity: { DATABASE_URL: dbs.identity.url, REDIS_URL: redis.url, REDIS_PREFIX: `${redis.prefix}:id:`, AUDIT_EVENTS: 'none', SCRYPT_LOG_N: '8', ISSUER: identityUrl },
      gateway: {
        DATABASE_URL: dbs.gateway.url,
        REDIS_URL: redis.url,
        GATEWAY_REDIS_PREFIX: `${redis.prefix}:gw:`,
        IDENTITY_REDIS_PREFIX: `${redis.prefix}:id:`,
        AUDIT_QUEUE_PREFIX: queuePrefix,
        IDENTITY_URL: identityUrl,
        IDENTITY_CLIENT_SECRET: 'bundle-spec-secret',
        POLICY_MODE: 'embedded',
        POLICY_WATCH: 'false',
        WEB_CONCURRENCY: '1',
        DISCOVERY_EVERY_MS: '0',
      },
      'policy-sidecar': { POLICY_DIR: 'infra/policies', POLICY_WATCH: 'false', DECISION_LOG_SINK: 'none' },
      'audit-writer': { DATABASE_URL: dbs['audit-writer'].url, REDIS_URL: redis.url, AUDIT_QUEUE_PREFIX: queuePrefix, IDENTITY_URL: identityUrl, AUDIT_INTROSPECTION_CLIENT_SECRET: 'bundle-spec-secret' },
    };
    for (const app of APPS) running.set(app, run(app, outdir, ports[app], { ...env[app], ...otel }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...running.values()].map(stop));
    await receiver?.close();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('starts every bundle with plain node and each answers /health with 200', async () => {
    const statuses = await Promise.all(APPS.map(async (app) => [app, await healthStatus(app, running.get(app)!)] as const));
    expect(Object.fromEntries(statuses)).toEqual({ identity: 200, gateway: 200, 'policy-sidecar': 200, 'audit-writer': 200 });
  }, STARTUP_MS);

  it('exports the HTTP server span of GET /health from every bundle, with its express route where express serves it', async () => {
    await Promise.all(APPS.map((app) => healthStatus(app, running.get(app)!)));
    const healthSpan = (spans: ReceivedSpan[], app: App) => spans.find((s) => s.serviceName === app && s.kind === SERVER && s.attributes['url.path'] === '/health');
    const spans = await receiver.waitFor((all) => APPS.every((app) => healthSpan(all, app)), 30_000);
    for (const app of APPS) expect(healthSpan(spans, app), app).toMatchObject({ attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
    // Identity answers /health on its node:http fast path; the others through express, whose
    // instrumentation names the route only when it patched the express that serves.
    for (const app of EXPRESS_HEALTH) expect(healthSpan(spans, app)!.attributes['http.route'], app).toBe('/health');
  }, STARTUP_MS);

  it('exports PostgreSQL spans from the bundles that use PostgreSQL: pg loads after telemetry starts', async () => {
    // A query on the app's own database (each migrated it before it listened).
    const pgSpan = (spans: ReceivedSpan[], app: (typeof WITH_POSTGRES)[number]) =>
      spans.find((s) => s.serviceName === app && s.kind === CLIENT && s.name.startsWith('pg.query:') && s.attributes['db.namespace'] === dbName(dbs[app].url));
    await Promise.all(WITH_POSTGRES.map((app) => healthStatus(app, running.get(app)!)));
    const spans = await receiver.waitFor((all) => WITH_POSTGRES.every((app) => pgSpan(all, app)), 30_000);
    for (const app of WITH_POSTGRES) expect(pgSpan(spans, app)!.attributes, app).toMatchObject({ 'db.system.name': 'postgresql' });
  }, STARTUP_MS);
});

describe('bundleApp', () => {
  const fixture = mkdtempSync(join(tmpdir(), 'bundle-app-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));
  const app = (name: string, main: string) => {
    mkdirSync(join(fixture, name, 'src'), { recursive: true });
    writeFileSync(join(fixture, name, 'src/main.ts'), main);
    return join(fixture, name);
  };

  it('refuses a main.js that would load an npm package before its first line runs, naming it', async () => {
    const dir = app('static', "import { trace } from '@opentelemetry/api';\nimport express from 'express';\nconsole.log(trace, express);\n");
    await expect(bundleApp(dir, join(fixture, 'out-static'))).rejects.toThrow(/main\.js loads express before it starts telemetry/);
  });

  it('accepts OpenTelemetry and node built-ins statically and everything else imported dynamically', async () => {
    const dir = app('dynamic', "import { trace } from '@opentelemetry/api';\nimport { join } from 'node:path';\nconsole.log(trace, join);\nconst express = await import('express');\nconsole.log(express);\n");
    await expect(bundleApp(dir, join(fixture, 'out-dynamic'))).resolves.toBeUndefined();
  });
});
