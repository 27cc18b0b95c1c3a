import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cloud-stack/service-kit';
import { readIdentityConfig } from './index';

describe('readIdentityConfig', () => {
  it('has working defaults', () => {
    const config = readIdentityConfig({});
    expect(config).toMatchObject({
      PORT: 3333,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/identity',
      ISSUER: 'http://localhost:3333',
      AUDIENCE: 'cloud-stack',
      ACCESS_TOKEN_TTL_SECONDS: 900,
    });
  });

  it('drops a trailing slash from the issuer', () => {
    expect(readIdentityConfig({ ISSUER: 'https://id.example.com/' }).ISSUER).toBe('https://id.example.com');
  });

  it('refuses to start in production without its secrets, naming the variable', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://identity:pw@db:5432/identity', REDIS_URL: 'redis://:pw@redis:6379' };
    expect(() => readIdentityConfig(production)).toThrow(new ConfigError('SIGNING_KEY_SECRETS', 'is required when NODE_ENV=production'));
    expect(() => readIdentityConfig({ ...production, SIGNING_KEY_SECRETS: 'x'.repeat(32), REDIS_URL: undefined })).toThrow(/^config error: REDIS_URL: /);
    expect(readIdentityConfig({ ...production, SIGNING_KEY_SECRETS: 'x'.repeat(32) }).SIGNING_KEY_SECRETS).toEqual(['x'.repeat(32)]);
  });

  it('takes a redis+cluster:// REDIS_URL once the audit queue prefix has a hash tag (or audit events are off)', () => {
    const cluster = { REDIS_URL: 'redis+cluster://10.0.0.5:6379' };
    expect(() => readIdentityConfig(cluster)).toThrow(/^config error: AUDIT_QUEUE_PREFIX: "bull" needs a hash tag/);
    expect(readIdentityConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}' }).REDIS_URL).toBe(cluster.REDIS_URL);
    expect(readIdentityConfig({ ...cluster, AUDIT_EVENTS: 'none' }).AUDIT_QUEUE_PREFIX).toBe('bull');
  });

  it('names the variable of a bad value', () => {
    expect(() => readIdentityConfig({ ACCESS_TOKEN_TTL_SECONDS: 'soon' })).toThrow(ConfigError);
    expect(() => readIdentityConfig({ ACCESS_TOKEN_TTL_SECONDS: 'soon' })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
  });
});
