import { afterAll, beforeAll } from 'vitest';
import request from 'supertest';
import type { RequestListener } from 'node:http';
import { createLogger } from '@cloud-stack/service-kit';
import { readIdentityConfig, readSeedFile, loadSeed, type IdentityContext, type SeedSummary } from '@cloud-stack/identity-core';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { createIdentityApp } from '../../src/app';

export interface Harness {
  readonly app: RequestListener;
  readonly ctx: IdentityContext;
  readonly seed: SeedSummary;
  /** The Redis channel prefix of this file (the audit queue lives under `${prefix}bull`). */
  readonly prefix: string;
  /** A password-grant token response for a seeded user (cached per e-mail). */
  login(email: string): Promise<{ access_token: string; refresh_token?: string }>;
  password(email: string): string;
  secret(clientId: string): string;
}

export const GATEWAY = 'gateway';

/**
 * A real identity app for one test file: its own database and Redis prefix, the demo seed loaded,
 * scrypt at low cost so the suite stays fast.
 */
export function useIdentity(env: Record<string, string> = {}): Harness {
  const db = useTestDatabase('identity');
  const redis = useRedisPrefix('identity');
  let state: { app: RequestListener; ctx: IdentityContext; seed: SeedSummary; close(): Promise<void> } | undefined;
  const logins = new Map<string, { access_token: string; refresh_token?: string }>();

  beforeAll(async () => {
    const config = readIdentityConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `${redis.prefix}:`,
      AUDIT_QUEUE_PREFIX: `${redis.prefix}:bull`,
      SCRYPT_LOG_N: '8',
      ...env,
    });
    const { app, ctx, close } = await createIdentityApp(config, createLogger('identity-test', 'silent'));
    const seed = await loadSeed(ctx.db, await readSeedFile(), { scrypt: { logN: 8, r: 8, p: 1 } });
    state = { app, ctx, seed, close };
  });
  afterAll(async () => {
    await state?.close();
  });

  const get = () => {
    if (!state) throw new TypeError('the identity harness exists only inside tests and hooks');
    return state;
  };
  return {
    get app() {
      return get().app;
    },
    get ctx() {
      return get().ctx;
    },
    get seed() {
      return get().seed;
    },
    prefix: `${redis.prefix}:`,
    password(email) {
      const user = get().seed.users.find((u) => u.email === email);
      if (!user) throw new TypeError(`no seeded user ${email}`);
      return user.password;
    },
    secret(clientId) {
      const client = get().seed.clients.find((c) => c.client_id === clientId);
      if (!client?.client_secret) throw new TypeError(`no seeded confidential client ${clientId}`);
      return client.client_secret;
    },
    async login(email) {
      const cached = logins.get(email);
      if (cached) return cached;
      const res = await request(get().app)
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: 'password', client_id: 'console', username: email, password: this.password(email) });
      if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
      logins.set(email, res.body);
      return res.body;
    },
  };
}

/** POST /oauth/introspect as the gateway. */
export function introspect(h: Harness, token: string) {
  return request(h.app).post('/oauth/introspect').auth(GATEWAY, h.secret(GATEWAY)).type('form').send({ token });
}
