import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cloud-stack/service-kit';
import { buildBundle, policyServerEnv, readPolicyServerConfig, type BuiltBundle } from '@cloud-stack/policy-server';
import { createPolicySidecarApp, type PolicySidecarApp } from '../../../src/app';
import { gatewayInput } from '../../support/gateway-input';
import { INFRA_POLICIES } from '../../support/sidecar';

const TOKEN = 'bundle-service-token';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = String(rsa.publicKey.export({ type: 'spki', format: 'pem' }));
const privatePem = String(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));

/** A bundle service as a bucket behind a token: one archive, ETag, 304, 401 without the token. */
function bundleService(archive: () => Buffer, etag: () => string): Server {
  return createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return res.writeHead(401).end();
    if (req.url !== '/policies/gateway.tar.gz') return res.writeHead(404).end();
    if (req.headers['if-none-match'] === etag()) return res.writeHead(304, { ETag: etag() }).end();
    res.writeHead(200, { ETag: etag(), 'Content-Type': 'application/gzip' }).end(archive());
  });
}

/** OPA's own configuration format, as a file an OPA would read unchanged. */
function opaConfigYaml(url: string, persistenceDir: string): string {
  return `services:
  bucket:
    url: ${url}
    credentials:
      bearer:
        token: "\${BUNDLE_TOKEN}"
keys:
  release:
    algorithm: RS256
    key: |
${publicPem
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
bundles:
  gateway:
    service: bucket
    resource: policies/gateway.tar.gz
    persist: true
    polling:
      min_delay_seconds: 3600
      max_delay_seconds: 7200
    signing:
      keyid: release
persistence_directory: ${persistenceDir}
default_decision: /gateway/authz/decision
labels:
  environment: test
`;
}

describe('sidecar started from an OPA configuration file pointing at a bundle service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-bundles-'));
  let built: BuiltBundle;
  let server: Server;
  let configFile: string;
  const apps: PolicySidecarApp[] = [];

  const start = async (file: string): Promise<PolicySidecarApp> => {
    const env = policyServerEnv(['--config-file', file], { BUNDLE_TOKEN: TOKEN, POLICY_WATCH: 'false', DECISION_LOG_SINK: 'none' });
    const app = await createPolicySidecarApp(readPolicyServerConfig(env), createLogger('policy-sidecar', 'silent'));
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    built = await buildBundle(INFRA_POLICIES, { ignore: ['*_test.rego'], signer: { algorithm: 'RS256', key: privatePem, keyid: 'release' } });
    server = bundleService(
      () => built.archive,
      () => `"${built.revision}"`,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    configFile = join(dir, 'opa-config.yaml');
    writeFileSync(configFile, opaConfigYaml(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, join(dir, 'persist')));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads and verifies the signed bundle, then serves the gateway decision from it', async () => {
    const sc = await start(configFile);
    const res = await request(sc.app).post('/v1/data/gateway/authz/decision').send({ input: gatewayInput() });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ allow: true, policy: 'gateway.authz' });
    const denied = await request(sc.app)
      .post('/v1/data/gateway/authz/decision')
      .send({ input: gatewayInput({ subject: { roles: ['viewer'] }, route: { permission: 'agent:execute' } }) });
    expect(denied.body.result.allow).toBe(false);
    const policies = await request(sc.app).get('/v1/policies');
    expect(policies.body.result.map((p: { id: string }) => p.id).sort()).toEqual(['gateway/gateway/authz.rego', 'gateway/gateway/rbac.rego']);
  });

  it('reports the bundle in /health?bundles, GET /v1/status and GET /v1/config (without secrets)', async () => {
    const sc = apps[0]!;
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
    const status = await request(sc.app).get('/v1/status');
    expect(status.status).toBe(200);
    expect(status.body.result.bundles.gateway).toMatchObject({
      name: 'gateway',
      active_revision: built.revision,
      last_successful_activation: expect.any(String),
      last_successful_download: expect.any(String),
    });
    expect(status.body.result.labels).toMatchObject({ environment: 'test', app: 'policy-sidecar' });
    const config = await request(sc.app).get('/v1/config');
    expect(config.body.result).toMatchObject({ bundles: { gateway: { resource: 'policies/gateway.tar.gz' } }, default_decision: '/gateway/authz/decision' });
    expect(config.text).not.toContain(TOKEN);
    expect(config.text).not.toContain('BEGIN PUBLIC KEY');
  });

  it('refuses a bundle signed with another key and keeps serving the verified one', async () => {
    const sc = apps[0]!;
    const good = built;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    built = await buildBundle(INFRA_POLICIES, {
      revision: 'forged',
      ignore: ['*_test.rego'],
      signer: { algorithm: 'RS256', key: String(other.privateKey.export({ type: 'pkcs8', format: 'pem' })), keyid: 'release' },
    });
    const status = await sc.server.bundles!.poll('gateway');
    expect(status).toMatchObject({ active_revision: good.revision, code: 'bundle_error', message: 'failed to verify JWS signature: the signature does not match' });
    expect((await request(sc.app).post('/v1/data/gateway/authz/decision').send({ input: gatewayInput() })).body.result.allow).toBe(true);
    const shown = await request(sc.app).get('/v1/status');
    expect(shown.body.result.bundles.gateway.errors).toEqual(['failed to verify JWS signature: the signature does not match']);
    built = good;
  });

  it('restarted with the bundle service down, serves the persisted bundle at once', async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const sc = await start(configFile);
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
    const res = await request(sc.app).post('/v1/data/gateway/authz/decision').send({ input: gatewayInput() });
    expect(res.body.result.allow).toBe(true);
    const status = await request(sc.app).get('/v1/status');
    expect(status.body.result.bundles.gateway).toMatchObject({ active_revision: built.revision, code: 'bundle_error' });
  });

  it('without a persisted bundle and the service down, /health?bundles answers 500 until a bundle activates', async () => {
    const file = join(dir, 'unreachable.yaml');
    writeFileSync(file, opaConfigYaml('http://127.0.0.1:9', join(dir, 'empty-persist')));
    const sc = await start(file);
    const health = await request(sc.app).get('/health?bundles');
    expect(health.status).toBe(500);
    expect(health.body).toEqual({ error: 'one or more bundles are not activated' });
    expect((await request(sc.app).get('/v1/status')).body.result.bundles.gateway).toMatchObject({ code: 'bundle_error', message: expect.stringContaining('request to http://127.0.0.1:9/policies/gateway.tar.gz failed') });
    expect((await request(sc.app).post('/v1/data/gateway/authz/decision').send({ input: gatewayInput() })).body.result).toBeUndefined();
  });
});
