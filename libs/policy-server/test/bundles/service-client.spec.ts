import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceClient } from '../../src/bundles/download';
import { parseOpaConfig } from '../../src/config/opa-config';

describe('bundle service credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'service-client-'));
  let url: string;
  let metadataCalls = 0;
  // Serves the bundle to "Bearer <anything in accepted>", and plays the GCP metadata server.
  const accepted = new Set(['Bearer from-file-1', 'Bearer from-file-2', 'Bearer gcp-access-token', 'Token static']);
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/computeMetadata/v1/instance/service-accounts/default/token')) {
      metadataCalls++;
      if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end();
      return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'gcp-access-token', expires_in: 3599, token_type: 'Bearer' }));
    }
    if (!accepted.has(req.headers.authorization ?? '')) return res.writeHead(401).end();
    res.writeHead(200, { ETag: '"v1"' }).end(Buffer.alloc(64));
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  const client = (credentials: unknown) => new ServiceClient(parseOpaConfig({ services: { s: { url, credentials } } }).services['s']!);

  it('bearer: sends the token with its scheme, and re-reads token_path on every request', async () => {
    expect(await client({ bearer: { token: 'static', scheme: 'Token' } }).download('b.tar.gz', undefined, 1024)).toMatchObject({ status: 'modified', etag: '"v1"' });
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file-1\n');
    const c = client({ bearer: { token_path: file } });
    expect((await c.download('b.tar.gz', undefined, 1024)).status).toBe('modified');
    writeFileSync(file, 'from-file-2\n');
    expect((await c.download('b.tar.gz', undefined, 1024)).status).toBe('modified');
    writeFileSync(file, 'revoked\n');
    await expect(c.download('b.tar.gz', undefined, 1024)).rejects.toMatchObject({ message: 'server replied with HTTP 401', httpCode: 401 });
  });

  it('gcp_metadata: gets an access token from the metadata server and reuses it until it expires', async () => {
    const c = client({ gcp_metadata: { endpoint: url, scopes: ['https://www.googleapis.com/auth/devstorage.read_only'] } });
    expect((await c.download('b.tar.gz', undefined, 1024)).status).toBe('modified');
    expect((await c.download('b.tar.gz', undefined, 1024)).status).toBe('modified');
    expect(metadataCalls).toBe(1);
  });

  it('refuses a bundle larger than size_limit_bytes', async () => {
    await expect(client({ bearer: { token: 'static', scheme: 'Token' } }).download('b.tar.gz', undefined, 10)).rejects.toThrow('bundle exceeds size_limit_bytes (10)');
  });
});
