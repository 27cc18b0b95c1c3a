import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@cloud-stack/service-kit';
import { policyServerEnv, readPolicyServerConfig, writeBundleArchive } from '@cloud-stack/policy-server';
import { createPolicySidecarApp, type PolicySidecarApp } from '../../../src/app';
import { startTestLogService, type TestLogService } from '../../support/log-service';

const APP = 'package app\n\nallow if input.user in data.app.users\n';

async function archive(revision: string, users: string[]): Promise<Buffer> {
  const files: Record<string, string> = {
    '.manifest': JSON.stringify({ revision, roots: ['app'] }),
    'app/app.rego': APP,
    'app/data.json': JSON.stringify({ users }),
  };
  return writeBundleArchive(new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])));
}

/**
 * A bundle named `authz` in OPA's configuration (the name differs from every directory and file
 * in it), owning the root `app`; decision logs go to a log service in OPA's protocol.
 */
describe('what a bundle owns: the Policy API and decision logs name it as OPA does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-ownership-'));
  let served: Buffer;
  let etag = '"r1"';
  let server: Server;
  let logs: TestLogService;
  let sc: PolicySidecarApp;

  const put = (id: string, source: string) => request(sc.app).put(`/v1/policies/${id}`).set('Content-Type', 'text/plain').send(source);
  const decide = async (user: string) => (await request(sc.app).post('/v1/data/app/allow').send({ input: { user } })).body as { decision_id: string; result?: boolean };
  const logged = async (decisionId: string): Promise<Record<string, unknown>> => {
    await sc.server.decisions!.flush();
    let event: Record<string, unknown> | undefined;
    await vi.waitFor(
      () => {
        event = logs.events().find((e) => e.decision_id === decisionId);
        expect(event).toBeDefined();
      },
      { timeout: 10_000, interval: 20 },
    );
    return event!;
  };

  beforeAll(async () => {
    served = await archive('r1', ['alice']);
    server = createServer((req, res) => {
      if (req.url !== '/bundles/app.tar.gz') return res.writeHead(404).end();
      if (req.headers['if-none-match'] === etag) return res.writeHead(304, { ETag: etag }).end();
      res.writeHead(200, { ETag: etag, 'Content-Type': 'application/gzip' }).end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    logs = await startTestLogService();
    const config = join(dir, 'opa-config.yaml');
    writeFileSync(
      config,
      `services:
  local:
    url: http://127.0.0.1:${(server.address() as AddressInfo).port}
bundles:
  authz:
    resource: bundles/app.tar.gz
    polling: {min_delay_seconds: 3600, max_delay_seconds: 7200}
persistence_directory: ${join(dir, 'persist')}
`,
    );
    const env = policyServerEnv(['-c', config], {
      POLICY_WATCH: 'false',
      DECISION_LOG_SINK: 'http',
      DECISION_LOG_SERVICE_URL: logs.url,
      DECISION_LOG_MIN_DELAY_MS: '10',
      DECISION_LOG_MAX_DELAY_MS: '20',
    });
    sc = await createPolicySidecarApp(readPolicyServerConfig(env), createLogger('policy-sidecar', 'silent'));
  });
  afterAll(async () => {
    await sc.close();
    await logs.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses PUT /v1/policies of a package under a bundle root with OPA’s 400, and accepts one outside', async () => {
    for (const [source, path] of [
      ['package app.extra\n\nv := 1\n', 'app/extra'],
      ['package app\n\nv := 1\n', 'app'],
    ]) {
      const res = await put('extra', source!);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 'invalid_parameter', message: `path ${path} is owned by bundle "authz"` });
    }
    expect((await request(sc.app).get('/v1/policies/extra')).status).toBe(404);

    expect((await put('mine', 'package mine\n\nv := 1\n')).status).toBe(200);
    expect((await request(sc.app).post('/v1/data/mine/v').send({})).body.result).toBe(1);
  });

  it('refuses moving an API policy under a root, keeping it as it was, and still deletes it', async () => {
    const moved = await put('mine', 'package app.mine\n\nv := 2\n');
    expect(moved.body).toEqual({ code: 'invalid_parameter', message: 'path app/mine is owned by bundle "authz"' });
    expect((await request(sc.app).post('/v1/data/mine/v').send({})).body.result).toBe(1);
    expect((await request(sc.app).delete('/v1/policies/mine')).status).toBe(200);
  });

  it('refuses replacing or deleting a bundle’s module, which keeps serving', async () => {
    const replaced = await put('authz/app/app.rego', 'package other\n\nallow := true\n');
    expect(replaced.status).toBe(400);
    expect(replaced.body).toEqual({ code: 'invalid_parameter', message: 'path app is owned by bundle "authz"' });
    const deleted = await request(sc.app).delete('/v1/policies/authz/app/app.rego');
    expect(deleted.status).toBe(400);
    expect(deleted.body).toEqual({ code: 'invalid_parameter', message: 'path app is owned by bundle "authz"' });
    expect((await request(sc.app).get('/v1/policies/authz/app/app.rego')).body.result.raw).toBe(APP);
    expect((await decide('alice')).result).toBe(true);
  });

  it('answers a parse error before the scope, as OPA parses first', async () => {
    const res = await put('broken', 'package app.\n');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_parameter', message: 'error(s) occurred while compiling module(s)', errors: [{ code: 'rego_parse_error' }] });
  });

  it('logs each decision with the bundle’s configured name and manifest revision, following activations', async () => {
    const first = await decide('alice');
    expect(first.result).toBe(true);
    expect((await logged(first.decision_id)).bundles).toEqual({ authz: { revision: 'r1' } });

    served = await archive('r2', ['bob']);
    etag = '"r2"';
    expect(await sc.server.bundles!.poll('authz')).toMatchObject({ active_revision: 'r2' });
    const second = await decide('bob');
    expect(second.result).toBe(true);
    expect((await logged(second.decision_id)).bundles).toEqual({ authz: { revision: 'r2' } });
    const provenance = await request(sc.app).post('/v1/data/app/allow?provenance').send({ input: { user: 'bob' } });
    expect(provenance.body.provenance.bundles).toEqual({ authz: { revision: 'r2' } });
  });
});
