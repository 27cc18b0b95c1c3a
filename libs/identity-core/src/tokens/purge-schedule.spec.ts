import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { createLogger } from '@cloud-stack/service-kit';
import { useRedisPrefix, useTestDatabase } from '@cloud-stack/test-kit';
import { IDENTITY_MAINTENANCE_QUEUE, openIdentity, readIdentityConfig, scheduleTokenPurge, TOKEN_PURGE_SCHEDULER, type IdentityContext, type PurgeResult } from '../index';

const database = useTestDatabase('identity_purge');
const redis = useRedisPrefix('identity_purge');
let ctx: IdentityContext;

const DAY = 24 * 3600 * 1000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

beforeAll(async () => {
  const config = readIdentityConfig({ DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_PREFIX: `${redis.prefix}:`, AUDIT_EVENTS: 'none', SCRYPT_LOG_N: '4' });
  ctx = await openIdentity(config, { logger: createLogger('identity-purge-test', 'silent') });
  await ctx.db.insertInto('tenants').values({ id: 'acme', name: 'Acme' }).execute();
  const userId = randomUUID();
  await ctx.db.insertInto('users').values({ id: userId, tenant_id: 'acme', email: 'a@acme.example', password_hash: 'x' }).execute();
  const refresh = (name: string, expiresAt: Date) => ({
    id: randomUUID(),
    token_sha256: name,
    family_id: randomUUID(),
    client_id: 'portal',
    user_id: userId,
    tenant_id: 'acme',
    scope: 'openid',
    expires_at: expiresAt,
  });
  // Expired refresh tokens stay a day (a late reuse is still recognised), so only the first goes.
  await ctx.db.insertInto('refresh_tokens').values([refresh('expired-2d', at(-2 * DAY)), refresh('expired-1h', at(-3600_000)), refresh('live', at(DAY))]).execute();
  await ctx.db.insertInto('revoked_tokens').values([{ jti: 'expired', expires_at: at(-1000) }, { jti: 'live', expires_at: at(DAY) }]).execute();
  await ctx.db
    .insertInto('subject_revocations')
    .values([
      { sub: 'gone', not_before: at(-DAY), expires_at: at(-1000) },
      { sub: 'kept', not_before: at(-1000), expires_at: at(DAY) },
    ])
    .execute();
});
afterAll(async () => {
  await ctx.close();
});

describe('scheduleTokenPurge', () => {
  it('deletes expired refresh tokens and revocation rows from a job scheduler, retrying a failed run', async () => {
    const failures: unknown[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (fields: unknown) => void failures.push(fields) };
    let calls = 0;
    const purge = async (): Promise<PurgeResult> => {
      calls++;
      if (calls === 1) throw new Error('database went away');
      return ctx.purgeExpired();
    };
    const schedule = await scheduleTokenPurge({ connection: { url: redis.url }, prefix: `${redis.prefix}:bull`, purge, logger, everyMs: 3_600_000, attempts: 3, backoffMs: 10 });
    const queue = new Queue(IDENTITY_MAINTENANCE_QUEUE, { connection: { url: redis.url }, prefix: `${redis.prefix}:bull` });
    try {
      // The scheduler's first job runs at once; its first attempt fails, the retry succeeds.
      await vi.waitFor(async () => expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 }), { timeout: 15_000, interval: 50 });
      const [job] = await queue.getJobs(['completed']);
      expect(job!.repeatJobKey).toBe(TOKEN_PURGE_SCHEDULER);
      expect(job!.returnvalue).toEqual({ refresh_tokens: 1, revoked_tokens: 1, subject_revocations: 1 });
      expect(failures).toEqual([expect.objectContaining({ attempt: 1, attempts: 3, will_retry: true })]);

      expect((await ctx.db.selectFrom('refresh_tokens').select('token_sha256').orderBy('token_sha256').execute()).map((r) => r.token_sha256)).toEqual(['expired-1h', 'live']);
      expect((await ctx.db.selectFrom('revoked_tokens').select('jti').execute()).map((r) => r.jti)).toEqual(['live']);
      expect((await ctx.db.selectFrom('subject_revocations').select('sub').execute()).map((r) => r.sub)).toEqual(['kept']);

      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => ({ key: s.key, every: s.every, attempts: s.template?.opts?.attempts }))).toEqual([{ key: TOKEN_PURGE_SCHEDULER, every: 3_600_000, attempts: 3 }]);
    } finally {
      await schedule.close();
      await queue.close();
    }
  });
});
