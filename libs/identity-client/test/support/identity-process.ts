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
  /** Base URL of the running identity. */
  readonly url: string;
  /** Identity's REDIS_PREFIX: the revocation channel lives under it. */
  readonly prefix: string;
  readonly redisUrl: string;
  secret(clientId: string): string;
  /** A fresh access token for a seeded user (password grant through the public `console` client). */
  login(email: string): Promise<string>;
  /** Calls identity's admin API as the platform owner. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Revokes a token at identity (RFC 7009) as `clientId`. */
  revoke(token: string, clientId: string): Promise<void>;
  /** How many introspections identity has answered so far (from its /metrics). */
  introspections(): Promise<number>;
}

/**
 * A real identity for one test file, run as its own process (as in production) from
 * apps/identity: its own database seeded with infra/seed/demo.json, its own Redis prefix. A
 * shared lib may not import identity's code (module boundaries, and identity-core uses this lib),
 * so it is started the way `npm start` does.
 */
export function useIdentityProcess(overrides: Record<string, string> = {}): IdentityProcess {
  const db = useTestDatabase('identity_client');
  const redis = useRedisPrefix('identity-client');
  const seed = JSON.parse(readFileSync(resolve(ROOT, 'infra/seed/demo.json'), 'utf8')) as DemoSeed;
  const prefix = `${redis.prefix}:`;
  let child: ChildProcess | undefined;
  let url = '';
  let stderr = '';

  beforeAll(async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      AUDIT_EVENTS: 'none',
      SCRYPT_LOG_N: '8',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...overrides,
    };
    await run(['apps/identity/src/cli.ts', 'seed'], env);
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/identity/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    url = `http://127.0.0.1:${port}`;
    await waitReady(child, url, () => stderr);
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
  const basic = (clientId: string) => `Basic ${Buffer.from(`${clientId}:${secret(clientId)}`).toString('base64')}`;
  const form = (fields: Record<string, string>) => ({ 'content-type': 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() });
  let ownerToken: string | undefined;

  const handle: IdentityProcess = {
    get url() {
      return url;
    },
    prefix,
    get redisUrl() {
      return redis.url;
    },
    secret,
    async login(email) {
      const password = seed.users.find((u) => u.email === email)?.password;
      if (!password) throw new TypeError(`no seeded user ${email}`);
      const { body, ...headers } = form({ grant_type: 'password', client_id: 'console', username: email, password });
      const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers, body });
      if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async admin(method, path, body) {
      ownerToken ??= await handle.login('owner@cloudstack.example');
      return fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async revoke(token, clientId) {
      const { body, ...headers } = form({ token, token_type_hint: 'access_token' });
      const res = await fetch(`${url}/oauth/revoke`, { method: 'POST', headers: { ...headers, authorization: basic(clientId) }, body });
      if (res.status !== 200) throw new Error(`revoke: ${res.status} ${await res.text()}`);
    },
    async introspections() {
      const text = await (await fetch(`${url}/metrics`)).text();
      let total = 0;
      for (const m of text.matchAll(/^identity_introspections_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
      return total;
    },
  };
  return handle;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`))));
  });
}

async function waitReady(child: ChildProcess, url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`identity exited with ${child.exitCode}: ${stderr()}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`identity was not ready after 45 s: ${stderr()}`);
}
