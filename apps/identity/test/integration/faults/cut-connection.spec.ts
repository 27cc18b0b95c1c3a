import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { adminDatabaseUrl, holdLock, terminateBackends } from '@cloud-stack/test-kit';
import { useIdentity } from '../../support/harness';

const h = useIdentity();

const refresh = (refreshToken: string) =>
  request(h.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'console', refresh_token: refreshToken });

describe('a database connection cut inside a refresh-token transaction', () => {
  it('answers that request 503 problem+json with Retry-After, and the next refresh succeeds', async () => {
    const { refresh_token } = await h.login('customer@acme.example');
    const database = new URL(h.ctx.config.DATABASE_URL).pathname.slice(1);

    // The exchange locks its refresh token row, then reads the user on another connection: with
    // `users` locked, its transaction waits between two statements, where a failover would find it.
    const lock = await holdLock(h.ctx.config.DATABASE_URL, 'LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const pending = refresh(refresh_token!).then((res) => res);
    const cut = await terminateBackends(adminDatabaseUrl(), { database, applicationName: 'identity', state: 'idle in transaction', waitMs: 10_000 });
    await lock.release();
    const res = await pending;

    expect(cut).toBe(1);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body).toMatchObject({ status: 503, instance: '/oauth/token' });

    // The cut transaction never committed: the same refresh token is still good, once.
    const again = await refresh(refresh_token!);
    expect(again.status).toBe(200);
    expect(again.body.refresh_token).toMatch(/^rt_/);
    await request(h.app).get('/ready').expect(200);
  });
});
