import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cloud-stack/service-kit';
import { opaHttpSinkOptionsFromEnv, readPolicyServerConfig } from '../../src/index';

describe('decision-log service configuration (environment)', () => {
  it('refuses DECISION_LOG_SINK=http without a service URL, naming the variable', () => {
    expect(() => readPolicyServerConfig({ DECISION_LOG_SINK: 'http' })).toThrow(ConfigError);
    expect(() => readPolicyServerConfig({ DECISION_LOG_SINK: 'http' })).toThrow(/DECISION_LOG_SERVICE_URL/);
  });

  it('takes a worker nice value from 0 to 19 (default 5), and names the variable otherwise', () => {
    expect(readPolicyServerConfig({}).DECISION_LOG_WORKER_NICE).toBe(5);
    expect(readPolicyServerConfig({ DECISION_LOG_WORKER_NICE: '19' }).DECISION_LOG_WORKER_NICE).toBe(19);
    for (const bad of ['20', '-1', 'low']) expect(() => readPolicyServerConfig({ DECISION_LOG_WORKER_NICE: bad })).toThrow(/DECISION_LOG_WORKER_NICE/);
  });

  it('maps the variables onto the sink’s OPA-named options', () => {
    const config = readPolicyServerConfig({
      DECISION_LOG_SINK: 'http',
      DECISION_LOG_SERVICE_URL: 'https://logs.example.test/opa',
      DECISION_LOG_SERVICE_TOKEN: 's3cret',
      DECISION_LOG_MIN_DELAY_MS: '1500',
      DECISION_LOG_MAX_DELAY_MS: '4000',
      DECISION_LOG_BUFFER_SIZE_LIMIT_BYTES: '1048576',
      DECISION_LOG_CLOSE_TIMEOUT_MS: '2000',
    });
    expect(opaHttpSinkOptionsFromEnv(config)).toEqual({
      url: 'https://logs.example.test/opa',
      resource: '/logs',
      headers: { authorization: 'Bearer s3cret' },
      minDelaySeconds: 1.5,
      maxDelaySeconds: 4,
      bufferSizeLimitBytes: 1048576,
      uploadSizeLimitBytes: 32768,
      closeTimeoutMs: 2000,
    });
  });
});
