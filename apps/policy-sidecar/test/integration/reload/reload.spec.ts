import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const version = (n: number) => `package reload\n\nversion := ${n}\n`;

async function servedVersion(sc: PolicySidecarApp): Promise<unknown> {
  const res = await request(sc.app).post('/v1/data/reload/version').send({ input: {} });
  return res.body.result;
}

describe('reload on change', () => {
  const files = tempPolicyDir({ 'reload.rego': version(1), 'data.json': '{"limits": {"max": 1}}' });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, POLICY_WATCH: 'true', POLICY_RELOAD_DEBOUNCE_MS: '20' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('serves the new policy after a file changes', async () => {
    expect(await servedVersion(sc)).toBe(1);
    files.write('reload.rego', version(2));
    await vi.waitFor(async () => expect(await servedVersion(sc)).toBe(2), { timeout: 10_000, interval: 50 });
  });

  it('reloads data files too', async () => {
    files.write('data.json', '{"limits": {"max": 7}}');
    await vi.waitFor(
      async () => expect((await request(sc.app).post('/v1/data/limits/max').send({ input: {} })).body.result).toBe(7),
      { timeout: 10_000, interval: 50 },
    );
  });

  it('keeps serving the old set when a change is broken, and says so in /health', async () => {
    const before = sc.server.store.current().revision;
    files.write('reload.rego', 'package reload\n\nversion := \n');
    await vi.waitFor(() => expect(sc.server.store.status().lastLoad?.ok).toBe(false), { timeout: 10_000, interval: 50 });
    expect(sc.server.store.current().revision).toBe(before);
    expect(await servedVersion(sc)).toBe(2);

    const health = await request(sc.app).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.warning).toMatchObject({
      code: 'policy_reload_error',
      errors: [{ code: 'rego_parse_error', location: { file: 'reload.rego' } }],
    });
    expect((await request(sc.app).get('/health?plugins')).status).toBe(500);
    expect((await request(sc.app).get('/health?bundles')).status).toBe(200);
  });

  it('recovers when the change is fixed', async () => {
    files.write('reload.rego', version(3));
    await vi.waitFor(async () => expect(await servedVersion(sc)).toBe(3), { timeout: 10_000, interval: 50 });
    const health = await request(sc.app).get('/health?plugins');
    expect(health.status).toBe(200);
    expect(health.text).toBe('{}\n');
  });

  it('keeps policies added through the API across directory reloads', async () => {
    await request(sc.app).put('/v1/policies/extra').set('Content-Type', 'text/plain').send('package extra\n\nv := "kept"\n').expect(200);
    files.write('reload.rego', version(4));
    await vi.waitFor(async () => expect(await servedVersion(sc)).toBe(4), { timeout: 10_000, interval: 50 });
    expect((await request(sc.app).post('/v1/data/extra/v').send({ input: {} })).body.result).toBe('kept');
  });
});

describe('a directory that does not compile at start-up', () => {
  const files = tempPolicyDir({ 'bad.rego': 'package bad\n\nallow if {\n' });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, POLICY_WATCH: 'true', POLICY_RELOAD_DEBOUNCE_MS: '20' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('stays alive, but /health?bundles and /ready fail until it loads', async () => {
    expect((await request(sc.app).get('/health')).status).toBe(200);
    const bundles = await request(sc.app).get('/health?bundles');
    expect(bundles.status).toBe(500);
    expect(bundles.body).toEqual({ error: 'one or more bundles are not activated' });
    expect((await request(sc.app).get('/ready')).status).toBe(503);

    files.write('bad.rego', 'package bad\n\nallow := true\n');
    await vi.waitFor(async () => expect((await request(sc.app).get('/health?bundles')).status).toBe(200), { timeout: 10_000, interval: 50 });
    expect((await request(sc.app).get('/ready')).status).toBe(200);
  });
});
