import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { policyServerEnv, readPolicyServerConfig } from '../../src/config';
import { decisionLogsConfig, defaultDecisionPath, parseOpaConfig, readOpaConfigFile, redactedOpaConfig, serviceConfig } from '../../src/config/opa-config';

// An OPA configuration file as OPA's documentation writes them.
const OPA_YAML = `
services:
  acmecorp:
    url: https://example.com/control-plane-api/v1
    response_header_timeout_seconds: 5
    credentials:
      bearer:
        token: "\${BUNDLE_TOKEN}"
labels:
  app: myapp
  region: west
keys:
  global_key:
    algorithm: RS256
    key: "-----BEGIN PUBLIC KEY-----\\nMIIB...\\n-----END PUBLIC KEY-----"
bundles:
  authz:
    service: acmecorp
    resource: bundles/http/example/authz.tar.gz
    persist: true
    polling:
      min_delay_seconds: 60
      max_delay_seconds: 120
    signing:
      keyid: global_key
      scope: write
decision_logs:
  service: acmecorp
  reporting:
    min_delay_seconds: 300
    max_delay_seconds: 600
status:
  service: acmecorp
default_decision: /http/example/authz/allow
persistence_directory: /var/opa
`;

describe('OPA configuration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opa-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('reads OPA’s documented example as is, substituting ${VAR} from the environment', () => {
    const config = readOpaConfigFile(file('opa.yaml', OPA_YAML), { BUNDLE_TOKEN: 'secret-token' });
    expect(config.services['acmecorp']).toEqual({
      name: 'acmecorp',
      url: 'https://example.com/control-plane-api/v1',
      headers: {},
      credentials: { type: 'bearer', scheme: 'Bearer', token: 'secret-token', token_path: undefined },
      response_header_timeout_seconds: 5,
    });
    expect(config.bundles['authz']).toEqual({
      name: 'authz',
      service: 'acmecorp',
      resource: 'bundles/http/example/authz.tar.gz',
      persist: true,
      polling: { min_delay_seconds: 60, max_delay_seconds: 120 },
      signing: { keyid: 'global_key', scope: 'write', exclude_files: [] },
      size_limit_bytes: 1024 * 1024 * 1024,
    });
    expect(config.labels).toEqual({ app: 'myapp', region: 'west' });
    expect(config.persistence_directory).toBe('/var/opa');
    expect(config.status).toEqual({ service: 'acmecorp', partition_name: undefined, console: false });
  });

  it('exposes default_decision and decision_logs through typed accessors, with OPA’s defaults', () => {
    const config = readOpaConfigFile(file('opa.yaml', OPA_YAML), { BUNDLE_TOKEN: 't' });
    expect(defaultDecisionPath(config)).toEqual(['http', 'example', 'authz', 'allow']);
    expect(decisionLogsConfig(config)).toEqual({
      service: 'acmecorp',
      resource: '/logs',
      partition_name: undefined,
      console: false,
      reporting: {
        buffer_type: 'size',
        buffer_size_limit_bytes: undefined,
        buffer_size_limit_events: undefined,
        upload_size_limit_bytes: 32768,
        min_delay_seconds: 300,
        max_delay_seconds: 600,
      },
      mask_decision: '/system/log/mask',
      drop_decision: '/system/log/drop',
    });
    expect(serviceConfig(config, 'acmecorp')?.url).toBe('https://example.com/control-plane-api/v1');
    const empty = parseOpaConfig({});
    expect(defaultDecisionPath(empty)).toEqual(['system', 'main']);
    expect(decisionLogsConfig(empty)).toBeUndefined();
  });

  it('takes the only service as the default and bundles/<name> as the default resource; accepts services as a list', () => {
    const config = parseOpaConfig({ services: [{ name: 's', url: 'http://b' }], bundles: { main: {} } });
    expect(config.bundles['main']).toMatchObject({ service: 's', resource: 'bundles/main', persist: false, polling: { min_delay_seconds: 60, max_delay_seconds: 120 } });
  });

  it('names the offending key in one line for a configuration it cannot honour', () => {
    const bad = (doc: unknown) => () => parseOpaConfig(doc);
    expect(bad({ services: { s: { url: 'http://b' } }, bundles: { b: { service: 'x' } } })).toThrow('config error: bundles.b.service: names no configured service (s)');
    expect(bad({ services: { s: { url: 'http://b', credentials: { oauth2: { token_url: 'x' } } } } })).toThrow(
      'config error: services.s.credentials.oauth2: unsupported credential type (supported: bearer, gcp_metadata)',
    );
    expect(bad({ keys: { k: { algorithm: 'RS999', key: 'x' } } })).toThrow('config error: keys.k.algorithm: unsupported algorithm "RS999"');
    expect(bad({ services: { s: { url: 'http://b' } }, bundles: { b: { polling: { min_delay_seconds: 10, max_delay_seconds: 5 } } } })).toThrow(
      'config error: bundles.b.polling.max_delay_seconds: must be at least min_delay_seconds (10)',
    );
    expect(bad({ services: { s: {} } })).toThrow('config error: services.s.url: is required');
    expect(bad({ services: { s: { url: 'http://b' } }, bundles: { b: { signing: { keyid: 'missing' } } } })).toThrow('config error: bundles.b.signing.keyid: names no key under keys');
    expect(() => readOpaConfigFile(join(dir, 'absent.yaml'))).toThrow('config error: POLICY_CONFIG_FILE: cannot read');
    expect(() => readOpaConfigFile(file('bad.yaml', 'services: [unclosed'))).toThrow('config error: POLICY_CONFIG_FILE:');
  });

  it('shows the configuration without credentials, headers or key material (GET /v1/config)', () => {
    const config = readOpaConfigFile(file('opa.yaml', OPA_YAML), { BUNDLE_TOKEN: 'secret-token' });
    const shown = redactedOpaConfig(config);
    expect(JSON.stringify(shown)).not.toContain('secret-token');
    expect(JSON.stringify(shown)).not.toContain('BEGIN PUBLIC KEY');
    expect(shown['services']).toEqual({ acmecorp: { url: 'https://example.com/control-plane-api/v1', response_header_timeout_seconds: 5 } });
    expect(shown['keys']).toEqual({ global_key: { algorithm: 'RS256' } });
  });

  it('reads the file named by --config-file, -c or POLICY_CONFIG_FILE into the server configuration', () => {
    const path = file('opa.yaml', OPA_YAML);
    for (const argv of [['-c', path], ['--config-file', path], [`--config-file=${path}`]]) {
      expect(readPolicyServerConfig(policyServerEnv(argv, { BUNDLE_TOKEN: 't' })).opa.bundles['authz']?.service).toBe('acmecorp');
    }
    expect(() => readPolicyServerConfig({ POLICY_CONFIG_FILE: path })).toThrow('config error: services.acmecorp.credentials.bearer.token: token or token_path is required');
    expect(readPolicyServerConfig({ POLICY_CONFIG_FILE: path, BUNDLE_TOKEN: 't' }).opa.default_decision).toBe('/http/example/authz/allow');
    expect(readPolicyServerConfig({}).opa.bundles).toEqual({});
    expect(() => policyServerEnv(['-c'], {})).toThrow('config error: -c: needs a file');
    expect(() => policyServerEnv(['--bundle'], {})).toThrow('config error: --bundle: unknown flag');
  });

  it('reads the same configuration inline from POLICY_CONFIG (a Cloud Run variable), never together with a file', () => {
    expect(readPolicyServerConfig({ POLICY_CONFIG: OPA_YAML, BUNDLE_TOKEN: 't' }).opa.bundles['authz']?.service).toBe('acmecorp');
    expect(() => readPolicyServerConfig({ POLICY_CONFIG: 'services: [unclosed' })).toThrow('config error: POLICY_CONFIG: POLICY_CONFIG is not valid YAML');
    expect(() => readPolicyServerConfig({ POLICY_CONFIG: OPA_YAML, POLICY_CONFIG_FILE: file('both.yaml', OPA_YAML), BUNDLE_TOKEN: 't' })).toThrow(
      'config error: POLICY_CONFIG: set either POLICY_CONFIG or POLICY_CONFIG_FILE (--config-file), not both',
    );
  });
});
