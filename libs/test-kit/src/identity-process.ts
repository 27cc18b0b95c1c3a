import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { useRedisPrefix, useTestDatabase } from './fixtures';
import { freePort } from './services';
import { REPO_ROOT, runProcess, startProcess, waitForReady, type ServiceProcess } from './processes';

interface DemoSeed {
  users: Array<{ email: string; password: string }>;
  clients: Array<{ client_id: string; secret?: string }>;
}

export interface IdentityProcess {
  /** Base URL of the running identity. */
  readonly url: string;
  /** Identity's REDIS_PREFIX: its revocation channel (and audit queue) live under it. */
  readonly prefix: string;
  readonly redisUrl: string;
  /** The process, to stop it (identity down) in a test. */
  readonly process: ServiceProcess;
  /** The seed's secret of a confidential client. */
  secret(clientId: string): string;
  /** A fresh password-grant token response for a seeded user, through the public `console` client. */
  login(email: string): Promise<{ access_token: string; refresh_token: string }>;
  /** A fresh access token for a seeded user. */
  token(email: string): Promise<string>;
  /** Calls identity's admin API as the platform owner. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Revokes a token at identity (RFC 7009) as `clientId` (default: the trusted `gateway` client). */
  revoke(token: string, clientId?: string): Promise<void>;
  /** How many introspections identity has answered so far (from its /metrics). */
  introspections(): Promise<number>;
}

/**
 * A real identity for one test file, run as its own process from apps/identity (as in production;
 * libs and other apps may not import identity's code): its own database seeded with
 * infra/seed/demo.json, its own Redis prefix, scrypt at low cost. `overrides` is extra environment,
 * or a function read when the process starts (for values only known then, such as a receiver's URL).
 */
export function useIdentityProcess(overrides: Record<string, string> | (() => Record<string, string>) = {}): IdentityProcess {
  const db = useTestDatabase('identity_proc');
  const redis = useRedisPrefix('identity-proc');
  const seed = JSON.parse(readFileSync(resolve(REPO_ROOT, 'infra/seed/demo.json'), 'utf8')) as DemoSeed;
  const prefix = `${redis.prefix}:`;
  let child: ServiceProcess | undefined;

  beforeAll(async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      AUDIT_EVENTS: 'none',
      SCRYPT_LOG_N: '8',
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      ...(typeof overrides === 'function' ? overrides() : overrides),
    };
    await runProcess('apps/identity/src/cli.ts', ['seed'], env);
    child = startProcess('identity', 'apps/identity/src/main.ts', port, env);
    await waitForReady(child);
  }, 180_000);
  afterAll(async () => {
    // Its drain waits for idle keep-alive connections; a test identity need not be patient.
    await child?.stop(2_000);
  });

  const get = (): ServiceProcess => {
    if (!child) throw new TypeError('the identity process exists only inside tests and hooks');
    return child;
  };
  const secret = (clientId: string): string => {
    const s = seed.clients.find((c) => c.client_id === clientId)?.secret;
    if (!s) throw new TypeError(`no seeded confidential client ${clientId}`);
    return s;
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  let ownerToken: string | undefined;

  const handle: IdentityProcess = {
    get url() {
      return get().url;
    },
    prefix,
    get redisUrl() {
      return redis.url;
    },
    get process() {
      return get();
    },
    secret,
    async login(email) {
      const password = seed.users.find((u) => u.email === email)?.password;
      if (!password) throw new TypeError(`no seeded user ${email}`);
      const res = await fetch(`${get().url}/oauth/token`, { method: 'POST', headers: FORM, body: form({ grant_type: 'password', client_id: 'console', username: email, password }) });
      if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { access_token: string; refresh_token: string };
    },
    async token(email) {
      return (await handle.login(email)).access_token;
    },
    async admin(method, path, body) {
      ownerToken ??= await handle.token('owner@cloudstack.example');
      return fetch(`${get().url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async revoke(token, clientId = 'gateway') {
      const basic = `Basic ${Buffer.from(`${clientId}:${secret(clientId)}`).toString('base64')}`;
      const res = await fetch(`${get().url}/oauth/revoke`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: form({ token, token_type_hint: 'access_token' }) });
      if (res.status !== 200) throw new Error(`revoke: ${res.status} ${await res.text()}`);
    },
    async introspections() {
      const text = await (await fetch(`${get().url}/metrics`)).text();
      let total = 0;
      for (const m of text.matchAll(/^identity_introspections_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
      return total;
    },
  };
  return handle;
}
