import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort, useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';

const ROOT = resolve(import.meta.dirname, '../../../..');

interface DemoSeed {
  users: Array<{ email: string; password: string }>;
  clients: Array<{ client_id: string; secret?: string }>;
}

export interface IdentityProcess {
  readonly url: string;
  /** Identity's REDIS_PREFIX (the audit-writer's IDENTITY_REDIS_PREFIX). */
  readonly prefix: string;
  secret(clientId: string): string;
  /** A password-grant token response for a seeded user, through the public `console` client. */
  login(email: string): Promise<{ access_token: string; refresh_token: string }>;
  /** Revokes a token at identity (RFC 7009) as the trusted `gateway` client. */
  revoke(token: string): Promise<void>;
  /** How many introspections identity has answered so far (from its /metrics). */
  introspections(): Promise<number>;
}

/**
 * A real identity for one test file, run as its own process from apps/identity (the audit-writer
 * may not import identity's code), seeded with infra/seed/demo.json into its own database, with
 * its own Redis prefix.
 */
export function useIdentityProcess(): IdentityProcess {
  const db = useTestDatabase('identity_for_audit');
  const redis = useRedisPrefix('identity-for-audit');
  const seed = JSON.parse(readFileSync(resolve(ROOT, 'infra/seed/demo.json'), 'utf8')) as DemoSeed;
  const prefix = `${redis.prefix}:`;
  let child: ChildProcess | undefined;
  let url = '';
  let stderr = '';

  beforeAll(async () => {
    const port = await freePort();
    const env = { ...process.env, DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: prefix, AUDIT_EVENTS: 'none', SCRYPT_LOG_N: '8', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port) };
    await run(['apps/identity/src/cli.ts', 'seed'], env);
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/identity/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 45_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`identity exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`identity was not ready after 45 s: ${stderr}`);
      if (await fetch(`${url}/ready`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    // Its drain waits for idle keep-alive connections; a test identity need not be patient.
    const timer = setTimeout(() => child!.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  });

  const secret = (clientId: string): string => {
    const s = seed.clients.find((c) => c.client_id === clientId)?.secret;
    if (!s) throw new TypeError(`no seeded confidential client ${clientId}`);
    return s;
  };
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

  return {
    get url() {
      return url;
    },
    prefix,
    secret,
    async login(email) {
      const password = seed.users.find((u) => u.email === email)?.password;
      if (!password) throw new TypeError(`no seeded user ${email}`);
      const res = await post('/oauth/token', { grant_type: 'password', client_id: 'console', username: email, password });
      if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { access_token: string; refresh_token: string };
    },
    async revoke(token) {
      const res = await post('/oauth/revoke', { token }, { authorization: `Basic ${Buffer.from(`gateway:${secret('gateway')}`).toString('base64')}` });
      if (res.status !== 200) throw new Error(`revoke: ${res.status} ${await res.text()}`);
    },
    async introspections() {
      const text = await (await fetch(`${url}/metrics`)).text();
      let total = 0;
      for (const m of text.matchAll(/^identity_introspections_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
      return total;
    },
  };
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`))));
  });
}
