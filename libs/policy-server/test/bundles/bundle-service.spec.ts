import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cloud-stack/service-kit';
import { BundleManager } from '../../src/bundles/bundle-manager';
import { signBundle } from '../../src/bundles/signatures';
import { parseOpaConfig } from '../../src/config/opa-config';
import { PolicyStore } from '../../src/store/policy-store';
import { archiveOf, filesOf, TestBundleServer, type FileSpec } from './bundle-server';

const logger = createLogger('bundle-service-test', 'silent');
const TOKEN = 'bundle-token';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = String(rsa.publicKey.export({ type: 'spki', format: 'pem' }));
const privatePem = String(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));

const authz = (revision: string, allow: string): FileSpec => ({
  '.manifest': JSON.stringify({ revision, roots: ['authz'] }),
  'authz/policy.rego': `package authz\n\nallow := ${allow}\n`,
  'authz/data.json': JSON.stringify({ revision }),
});

function evaluate(store: PolicyStore, path: string[]): unknown {
  const r = store.current().set.evaluate(path, { data: store.current().data });
  return r.defined ? r.result : undefined;
}

describe('bundle service (OPA bundle plugin)', () => {
  const server = new TestBundleServer(TOKEN);
  const persistDir = mkdtempSync(join(tmpdir(), 'bundle-persist-'));
  let url: string;
  const config = () =>
    parseOpaConfig({
      services: { acme: { url, credentials: { bearer: { token: TOKEN } } } },
      keys: { global: { algorithm: 'RS256', key: publicPem } },
      bundles: {
        authz: { service: 'acme', resource: 'bundles/authz.tar.gz', persist: true, polling: { min_delay_seconds: 3600, max_delay_seconds: 7200 } },
        roles: { resource: '/bundles/roles.tar.gz', signing: { keyid: 'global' }, polling: { min_delay_seconds: 3600, max_delay_seconds: 7200 } },
      },
      persistence_directory: persistDir,
    });
  const open = async (): Promise<{ store: PolicyStore; manager: BundleManager }> => {
    const store = new PolicyStore(logger);
    const manager = new BundleManager({ config: config(), store, logger, polling: false });
    await manager.start();
    return { store, manager };
  };
  // Signed without a kid: `signing.keyid` of the configuration names the key.
  const signedRoles = (revision: string, roles: unknown): Map<string, Buffer> => {
    const files = filesOf({ '.manifest': JSON.stringify({ revision, roots: ['roles'] }), 'roles/data.json': JSON.stringify(roles) });
    files.set('.signatures.json', signBundle(files, { algorithm: 'RS256', key: privatePem }));
    return files;
  };
  const putRoles = async (revision: string, roles: unknown): Promise<void> => {
    server.put('/bundles/roles.tar.gz', await archiveOf(Object.fromEntries(signedRoles(revision, roles))));
  };

  beforeAll(async () => {
    url = await server.listen();
  });
  afterAll(async () => {
    await server.close();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it('downloads with the bearer token, verifies the signed bundle, activates both and reports them', async () => {
    server.put('/bundles/authz.tar.gz', await archiveOf(authz('a1', 'true')));
    await putRoles('r1', { admin: ['*'] });
    const { store, manager } = await open();
    expect(evaluate(store, ['authz', 'allow'])).toBe(true);
    expect(store.current().data).toEqual({ authz: { revision: 'a1' }, roles: { admin: ['*'] } });
    expect(store.bundleRoots()).toEqual([['authz'], ['roles']]);
    // The serving revision records each bundle by its configured name (decision logs, provenance, scope checks).
    expect(store.current().bundles).toEqual([
      { name: 'authz', revision: 'a1', roots: [['authz']] },
      { name: 'roles', revision: 'r1', roots: [['roles']] },
    ]);
    expect(manager.allActivated()).toBe(true);
    const status = manager.status();
    expect(status['authz']).toMatchObject({ name: 'authz', active_revision: 'a1', type: 'snapshot', http_code: 200 });
    expect(status['roles']).toMatchObject({ active_revision: 'r1' });
    expect(status['authz']!.last_successful_activation).toEqual(expect.any(String));
    expect(status['authz']!.last_successful_download).toEqual(expect.any(String));
    expect(status['authz']!.code).toBeUndefined();
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    manager.close();
  });

  it('polls with If-None-Match and keeps the bundle on 304; a new ETag activates the new revision', async () => {
    const { store, manager } = await open();
    const before = store.current().revision;
    server.requests.length = 0;
    await manager.poll('authz');
    expect(server.requests).toMatchObject([{ path: '/bundles/authz.tar.gz', status: 304 }]);
    expect(server.requests[0]!.headers['if-none-match']).toEqual(expect.stringMatching(/^"e\d+"$/));
    expect(store.current().revision).toBe(before);
    server.put('/bundles/authz.tar.gz', await archiveOf(authz('a2', 'false')));
    const status = await manager.poll('authz');
    expect(status.active_revision).toBe('a2');
    expect(evaluate(store, ['authz', 'allow'])).toBe(false);
    manager.close();
  });

  it('rejects a bundle that does not compile, keeps the old one serving and records the error', async () => {
    const { store, manager } = await open();
    server.put('/bundles/authz.tar.gz', await archiveOf(authz('a3-broken', 'true if {')));
    const status = await manager.poll('authz');
    expect(status).toMatchObject({ active_revision: 'a2', code: 'bundle_error', message: 'bundle activation failed: error(s) occurred while compiling module(s)' });
    expect(status.errors?.[0]).toMatch(/^authz\/authz\/policy\.rego:\d+: rego_parse_error/);
    expect(evaluate(store, ['authz', 'allow'])).toBe(false);
    expect(store.current().data['authz']).toEqual({ revision: 'a2' });
    manager.close();
  });

  it('rejects a signed bundle whose content no longer matches its signature', async () => {
    const { store, manager } = await open();
    const files = signedRoles('r2', { admin: ['*'] });
    files.set('roles/data.json', Buffer.from('{"admin": ["everything"]}'));
    server.put('/bundles/roles.tar.gz', await archiveOf(Object.fromEntries(files)));
    const status = await manager.poll('roles');
    expect(status).toMatchObject({ active_revision: 'r1', code: 'bundle_error', message: expect.stringContaining('roles/data.json: digest mismatch') });
    expect(store.current().data['roles']).toEqual({ admin: ['*'] });
    manager.close();
    await putRoles('r2', { admin: ['*'] });
  });

  it('rejects a bundle whose roots overlap another active bundle', async () => {
    const { manager } = await open();
    server.put('/bundles/authz.tar.gz', await archiveOf({ '.manifest': JSON.stringify({ revision: 'a4', roots: ['authz', 'roles/admin'] }) }));
    const status = await manager.poll('authz');
    expect(status).toMatchObject({ code: 'bundle_error', message: 'detected overlapping roots in bundle manifest with: [authz roles]' });
    manager.close();
    server.put('/bundles/authz.tar.gz', await archiveOf(authz('a5', 'true')));
  });

  it('keeps data written outside the bundle roots across activations', async () => {
    const { store, manager } = await open();
    store.replaceData({ ...store.current().data, local: { x: 1 } });
    server.put('/bundles/authz.tar.gz', await archiveOf(authz('a6', 'true')));
    await manager.poll('authz');
    expect(store.current().data).toEqual({ authz: { revision: 'a6' }, roles: { admin: ['*'] }, local: { x: 1 } });
    manager.close();
  });

  it('after a restart with the bundle server down, serves the persisted bundle at once', async () => {
    await server.close();
    const { store, manager } = await open();
    expect(evaluate(store, ['authz', 'allow'])).toBe(true);
    const status = manager.status();
    expect(status['authz']).toMatchObject({ active_revision: 'a6', code: 'bundle_error', message: expect.stringContaining('request to') });
    // `roles` is not persisted: it waits for the server.
    expect(status['roles']!.active_revision).toBeUndefined();
    expect(manager.allActivated()).toBe(false);
    manager.close();
  });
});

describe('local bundles (POLICY_BUNDLES, as opa run --bundle)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-local-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a .tar.gz file and a bundle directory, each named by its path', async () => {
    const tarball = join(dir, 'authz.tar.gz');
    writeFileSync(tarball, await archiveOf(authz('local-1', 'true')));
    const bundleDir = join(dir, 'roles');
    mkdirSync(join(bundleDir, 'roles'), { recursive: true });
    writeFileSync(join(bundleDir, '.manifest'), JSON.stringify({ revision: 'local-2', roots: ['roles'] }));
    writeFileSync(join(bundleDir, 'roles/data.json'), '{"viewer": []}');
    const store = new PolicyStore(logger);
    const manager = new BundleManager({ config: parseOpaConfig({}), localBundles: [tarball, bundleDir], store, logger });
    await manager.start();
    expect(manager.allActivated()).toBe(true);
    expect(manager.status()[tarball]).toMatchObject({ active_revision: 'local-1' });
    expect(manager.status()[bundleDir]).toMatchObject({ active_revision: 'local-2' });
    expect(store.current().data).toEqual({ authz: { revision: 'local-1' }, roles: { viewer: [] } });
    manager.close();
  });
});
