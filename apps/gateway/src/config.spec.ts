import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cloud-stack/service-kit';
import { readGatewayConfig } from './config';

const BASE = { IDENTITY_CLIENT_SECRET: 'secret' };

describe('readGatewayConfig: Redis Cluster', () => {
  const cluster = { ...BASE, REDIS_URL: 'redis+cluster://:pw@10.0.0.5:6379' };

  it('takes a redis+cluster:// REDIS_URL once the audit queue prefix has a hash tag', () => {
    expect(readGatewayConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}' })).toMatchObject({ REDIS_URL: cluster.REDIS_URL, AUDIT_QUEUE_PREFIX: '{audit}', GATEWAY_REDIS_PREFIX: 'gw:' });
    expect(() => readGatewayConfig(cluster)).toThrow(/^config error: AUDIT_QUEUE_PREFIX: "bull" needs a hash tag/);
  });

  it('refuses a hash tag in GATEWAY_REDIS_PREFIX there: it would put every rate-limit and budget key in one slot', () => {
    expect(() => readGatewayConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}', GATEWAY_REDIS_PREFIX: '{gw}:' })).toThrow(ConfigError);
    expect(() => readGatewayConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}', GATEWAY_REDIS_PREFIX: '{gw}:' })).toThrow(/GATEWAY_REDIS_PREFIX: "\{gw\}:" must not carry a hash tag/);
  });

  it("reads identity's revocations from identity's own Redis when IDENTITY_REDIS_URL names it", () => {
    expect(readGatewayConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}', IDENTITY_REDIS_URL: 'redis://identity-cache:6379' }).IDENTITY_REDIS_URL).toBe('redis://identity-cache:6379');
    expect(() => readGatewayConfig({ ...BASE, IDENTITY_REDIS_URL: 'not a url' })).toThrow(/^config error: IDENTITY_REDIS_URL: /);
  });

  it('leaves prefixes alone on a single Redis', () => {
    expect(readGatewayConfig({ ...BASE, REDIS_URL: 'redis://cache:6379', GATEWAY_REDIS_PREFIX: '{gw}:' })).toMatchObject({ AUDIT_QUEUE_PREFIX: 'bull', GATEWAY_REDIS_PREFIX: '{gw}:' });
  });
});
