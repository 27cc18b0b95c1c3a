import { describe, expect, it } from 'vitest';
import { auditQueueName } from '@cloud-stack/contracts';
import { ConfigError } from '@cloud-stack/service-kit';
import { readAuditWriterConfig } from './config';

const SECRET = { AUDIT_INTROSPECTION_CLIENT_SECRET: 'test-introspection-secret' };

describe('readAuditWriterConfig: the audit queue', () => {
  it('consumes the queue the producers fill: same variable, same full name', () => {
    const config = readAuditWriterConfig({ ...SECRET, AUDIT_QUEUE_PREFIX: 'acme' });
    expect(auditQueueName(config.AUDIT_QUEUE_PREFIX)).toBe('acme:audit');
    expect(auditQueueName(readAuditWriterConfig(SECRET).AUDIT_QUEUE_PREFIX)).toBe('bull:audit');
  });

  it('refuses the retired QUEUE_PREFIX set alone or differently, naming both variables', () => {
    expect(() => readAuditWriterConfig({ ...SECRET, QUEUE_PREFIX: 'acme' })).toThrow(
      new ConfigError('QUEUE_PREFIX', 'is no longer read; set AUDIT_QUEUE_PREFIX (the name every service reads) to "acme" instead'),
    );
    expect(() => readAuditWriterConfig({ ...SECRET, QUEUE_PREFIX: 'acme', AUDIT_QUEUE_PREFIX: 'other' })).toThrow(/^config error: QUEUE_PREFIX: .*AUDIT_QUEUE_PREFIX/);
  });

  it('accepts the retired name alongside the new one when both agree (a rolling change)', () => {
    expect(readAuditWriterConfig({ ...SECRET, QUEUE_PREFIX: 'acme', AUDIT_QUEUE_PREFIX: 'acme' }).AUDIT_QUEUE_PREFIX).toBe('acme');
  });
});

describe('readAuditWriterConfig: secrets', () => {
  it('has no default introspection secret', () => {
    expect(() => readAuditWriterConfig({})).toThrow(new ConfigError('AUDIT_INTROSPECTION_CLIENT_SECRET', 'is required'));
  });

  it('refuses to start in production without its connection strings, naming the variable', () => {
    const production = { ...SECRET, NODE_ENV: 'production', DATABASE_URL: 'postgres://audit:pw@db:5432/audit' };
    expect(() => readAuditWriterConfig(production)).toThrow(new ConfigError('REDIS_URL', 'is required when NODE_ENV=production'));
    expect(readAuditWriterConfig({ ...production, REDIS_URL: 'redis://:pw@redis:6379' }).REDIS_URL).toBe('redis://:pw@redis:6379');
  });
});

describe('readAuditWriterConfig: Redis Cluster', () => {
  it('takes a redis+cluster:// REDIS_URL with a hash-tagged queue prefix, and refuses the default prefix there', () => {
    const cluster = { ...SECRET, REDIS_URL: 'redis+cluster://:pw@10.0.0.5:6379' };
    expect(readAuditWriterConfig({ ...cluster, AUDIT_QUEUE_PREFIX: '{audit}' }).AUDIT_QUEUE_PREFIX).toBe('{audit}');
    expect(() => readAuditWriterConfig(cluster)).toThrow(/^config error: AUDIT_QUEUE_PREFIX: "bull" needs a hash tag such as "\{bull\}"/);
  });
});
