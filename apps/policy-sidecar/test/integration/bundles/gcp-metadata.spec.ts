import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@cloud-stack/service-kit';
import { readPolicyServerConfig, writeBundleArchive } from '@cloud-stack/policy-server';
import { createPolicySidecarApp, type PolicySidecarApp } from '../../../src/app';

const BUCKET = 'policy-bundles';
const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_only';

async function archive(revision: string, users: string[]): Promise<Buffer> {
  const files: Record<string, string> = {
    '.manifest': JSON.stringify({ revision, roots: ['app'] }),
    'app/app.rego': 'package app\n\nallow if input.user in data.app.users\n',
    'app/data.json': JSON.stringify({ users }),
  };
  return writeBundleArchive(new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])));
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = async (server: Server): Promise<void> => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
};

/**
 * The Cloud Run shape (infra/terraform): OPA's documented GCS pattern (the JSON API's objects URL,
 * `?alt=media` resource) with `gcp_metadata` credentials, given inline as POLICY_CONFIG. A fake
 * metadata server issues access tokens; the fake bucket honours only the newest one, as a token
 * past its expiry is refused by GCS.
 */
describe('bundles from a GCS bucket with gcp_metadata credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-gcs-'));
  let issued = 0;
  let metadataFails = false;
  const metadataRequests: Array<{ url: string; flavor: string | undefined }> = [];
  const bucketAuth: string[] = [];
  let object: { body: Buffer; etag: string } = { body: Buffer.alloc(0), etag: '' };

  const metadata = createServer((req, res) => {
    metadataRequests.push({ url: req.url ?? '', flavor: req.headers['metadata-flavor'] as string | undefined });
    if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end();
    if (metadataFails) return res.writeHead(503).end();
    if (!req.url?.startsWith('/computeMetadata/v1/instance/service-accounts/default/token')) return res.writeHead(404).end();
    issued++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: `ya29.token-${issued}`, expires_in: 3599, token_type: 'Bearer' }));
  });
  const bucket = createServer((req, res) => {
    bucketAuth.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== `Bearer ya29.token-${issued}`) return res.writeHead(401).end();
    if (req.url !== `/storage/v1/b/${BUCKET}/o/bundle.tar.gz?alt=media`) return res.writeHead(404).end();
    if (req.headers['if-none-match'] === object.etag) return res.writeHead(304, { ETag: object.etag }).end();
    res.writeHead(200, { ETag: object.etag, 'Content-Type': 'application/octet-stream' }).end(object.body);
  });
  let sc: PolicySidecarApp;
  const allowed = async (user: string): Promise<unknown> => (await request(sc.app).post('/v1/data/app/allow').send({ input: { user } })).body.result;

  beforeAll(async () => {
    const metadataUrl = await listen(metadata);
    const storageUrl = await listen(bucket);
    object = { body: await archive('r1', ['alice']), etag: '"g1"' };
    // As infra/terraform writes it, with the metadata endpoint (OPA's `endpoint`, test-only) moved to the fake.
    const config = JSON.stringify({
      services: { gcs: { url: `${storageUrl}/storage/v1/b/${BUCKET}/o`, credentials: { gcp_metadata: { scopes: [SCOPE], endpoint: metadataUrl } } } },
      bundles: { gateway: { service: 'gcs', resource: 'bundle.tar.gz?alt=media', polling: { min_delay_seconds: 3600, max_delay_seconds: 7200 } } },
      persistence_directory: join(dir, 'persist'),
    });
    const env = { POLICY_CONFIG: config, POLICY_WATCH: 'false', DECISION_LOG_SINK: 'none' };
    sc = await createPolicySidecarApp(readPolicyServerConfig(env), createLogger('policy-sidecar', 'silent'));
  });
  afterAll(async () => {
    vi.useRealTimers();
    await sc.close();
    await close(metadata);
    await close(bucket);
    rmSync(dir, { recursive: true, force: true });
  });

  it('activates the bundle downloaded with the metadata server access token', async () => {
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
    expect(await allowed('alice')).toBe(true);
    expect(metadataRequests).toEqual([{ url: `/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(SCOPE)}`, flavor: 'Google' }]);
    expect(bucketAuth).toEqual(['Bearer ya29.token-1']);
    const status = await request(sc.app).get('/v1/status');
    expect(status.body.result.bundles.gateway).toMatchObject({ active_revision: 'r1', http_code: 200 });
    const shown = await request(sc.app).get('/v1/config');
    expect(shown.body.result.services.gcs).toEqual({ url: expect.stringContaining(`/storage/v1/b/${BUCKET}/o`) });
  });

  it('reuses the token while it is valid, and asks for a new one once it has expired', async () => {
    expect(await sc.server.bundles!.poll('gateway')).toMatchObject({ active_revision: 'r1', http_code: 304 });
    expect(issued).toBe(1);
    object = { body: await archive('r2', ['alice', 'bob']), etag: '"g2"' };
    // Only Date moves: the cached token is past its expiry; timers and sockets run as usual.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3600_000 });
    const status = await sc.server.bundles!.poll('gateway');
    expect(status).toMatchObject({ active_revision: 'r2', http_code: 200 });
    expect(status.code).toBeUndefined();
    expect(issued).toBe(2);
    expect(bucketAuth.slice(-2)).toEqual(['Bearer ya29.token-1', 'Bearer ya29.token-2']);
    expect(await allowed('bob')).toBe(true);
  });

  it('a metadata server failure keeps the last good bundle serving and shows in /v1/status', async () => {
    metadataFails = true;
    vi.setSystemTime(Date.now() + 3600_000);
    object = { body: await archive('r3', []), etag: '"g3"' };
    const requestsBefore = bucketAuth.length;
    const status = await sc.server.bundles!.poll('gateway');
    expect(status).toMatchObject({ active_revision: 'r2', code: 'bundle_error', message: expect.stringContaining('gcp_metadata: the metadata server answered HTTP 503') });
    // Without a token the bucket is not asked at all.
    expect(bucketAuth.length).toBe(requestsBefore);
    expect(await allowed('bob')).toBe(true);
    const shown = await request(sc.app).get('/v1/status');
    expect(shown.body.result.bundles.gateway).toMatchObject({ active_revision: 'r2', code: 'bundle_error', message: expect.stringContaining('metadata server answered HTTP 503') });
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
  });
});
