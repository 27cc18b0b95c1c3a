import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package app

allow if input.user in data.users.admins

admins_count := count(data.users.admins)
`;
const USERS = JSON.stringify({ admins: ['alice'] });

/** A JSON body of any kind (superagent sends only objects and strings as JSON). */
const json = (value: unknown) => JSON.stringify(value);

const decide = async (sc: PolicySidecarApp, user: string) => (await request(sc.app).post('/v1/data/app/allow').send({ input: { user } })).body.result;

describe('Data API writes: PUT, PATCH, DELETE /v1/data/{path}', () => {
  const files = tempPolicyDir({ 'app.rego': POLICY, 'users/data.json': USERS });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('PUT creates a document (and its missing parents) with 204, visible to the next decision', async () => {
    expect(await decide(sc, 'bob')).toBeUndefined();
    const put = await request(sc.app).put('/v1/data/users/admins').send(['alice', 'bob']);
    expect(put.status).toBe(204);
    expect(put.text).toBe('');
    expect(await decide(sc, 'bob')).toBe(true);

    expect((await request(sc.app).put('/v1/data/new/deep/doc').send({ x: 1 })).status).toBe(204);
    expect((await request(sc.app).get('/v1/data/new')).body.result).toEqual({ deep: { doc: { x: 1 } } });
  });

  it('PUT with If-None-Match: * answers 304 for an existing document and changes nothing', async () => {
    const before = sc.server.store.current().revision;
    const res = await request(sc.app).put('/v1/data/users/admins').set('If-None-Match', '*').send([]);
    expect(res.status).toBe(304);
    expect(sc.server.store.current().revision).toBe(before);
    expect((await request(sc.app).put('/v1/data/fresh').set('If-None-Match', '*').type('json').send(json('created'))).status).toBe(204);
  });

  it('PUT ?metrics answers 200 with the metrics; a gzip body is accepted', async () => {
    const res = await request(sc.app)
      .put('/v1/data/zipped?metrics=true')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((body: Buffer) => body as unknown as string) // the gzip bytes as they are
      .send(gzipSync(JSON.stringify({ z: true })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ metrics: { timer_rego_input_parse_ns: expect.any(Number), timer_server_handler_ns: expect.any(Number) } });
    expect((await request(sc.app).get('/v1/data/zipped')).body.result).toEqual({ z: true });
  });

  it('PATCH applies add/remove/replace relative to the document, all or nothing', async () => {
    await request(sc.app).put('/v1/data/users/admins').send(['alice']);
    const ok = await request(sc.app)
      .patch('/v1/data/users')
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify([
        { op: 'add', path: '/admins/-', value: 'carol' },
        { op: 'replace', path: '/admins/0', value: 'dave' },
        { op: 'add', path: '/teams', value: { red: [] } },
        { op: 'remove', path: '/teams/red' },
      ]));
    expect(ok.status).toBe(204);
    expect((await request(sc.app).get('/v1/data/users')).body.result).toEqual({ admins: ['dave', 'carol'], teams: {} });
    expect(await decide(sc, 'carol')).toBe(true);

    // The second operation fails: the first must not be visible either.
    const revision = sc.server.store.current().revision;
    const failed = await request(sc.app).patch('/v1/data/users').send([
      { op: 'add', path: '/admins/-', value: 'eve' },
      { op: 'replace', path: '/missing', value: 1 },
    ]);
    expect(failed.status).toBe(404);
    expect(failed.body).toEqual({ code: 'resource_not_found', message: 'storage_not_found_error: document does not exist' });
    expect(sc.server.store.current().revision).toBe(revision);
    expect(await decide(sc, 'eve')).toBeUndefined();
  });

  it('PATCH refuses operations OPA does not apply and malformed patches with 400', async () => {
    for (const op of ['move', 'copy', 'test']) {
      const res = await request(sc.app).patch('/v1/data/users').send([{ op, from: '/admins', path: '/x', value: 1 }]);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 'invalid_parameter', message: `bad patch operation: ${op}` });
    }
    const notArray = await request(sc.app).patch('/v1/data/users').send({ op: 'add', path: '/x', value: 1 });
    expect(notArray.status).toBe(400);
    expect(notArray.body.code).toBe('invalid_parameter');
    const badPointer = await request(sc.app).patch('/v1/data/users').send([{ op: 'add', path: '/a~2b', value: 1 }]);
    expect(badPointer.body).toEqual({ code: 'invalid_parameter', message: 'bad patch path: /a~2b' });
    const badJson = await request(sc.app).patch('/v1/data/users').set('Content-Type', 'application/json').send('[{');
    expect(badJson.status).toBe(400);
  });

  it('DELETE removes a document with 204; a missing one is 404', async () => {
    expect((await request(sc.app).delete('/v1/data/new/deep')).status).toBe(204);
    expect((await request(sc.app).get('/v1/data/new')).body.result).toEqual({});
    const missing = await request(sc.app).delete('/v1/data/new/deep');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 'resource_not_found', message: 'storage_not_found_error: /new/deep: document does not exist' });
  });

  it('refuses data where a rule is defined (400) and writes through a scalar (404 resource_conflict)', async () => {
    const rule = await request(sc.app).put('/v1/data/app/allow').type('json').send(json(true));
    expect(rule.status).toBe(400);
    expect(rule.body).toEqual({ code: 'invalid_parameter', message: '1 error occurred: rego_compile_error: conflicting rule for data path app/allow found' });
    await request(sc.app).put('/v1/data/scalar').type('json').send(json(1));
    const through = await request(sc.app).put('/v1/data/scalar/below').type('json').send(json(1));
    expect(through.status).toBe(404);
    expect(through.body).toEqual({ code: 'resource_conflict', message: 'storage_write_conflict_error: /scalar' });
  });

  it('replaces the whole data document with PUT /v1/data (an object only), and answers other methods 405', async () => {
    expect((await request(sc.app).put('/v1/data').send([1])).body).toEqual({ code: 'invalid_parameter', message: 'storage_invalid_patch_error: root must be object' });
    expect((await request(sc.app).put('/v1/data').send({ users: { admins: ['root'] } })).status).toBe(204);
    expect((await request(sc.app).get('/v1/data/users')).body.result).toEqual({ admins: ['root'] });
    expect((await request(sc.app).get('/v1/data/app/admins_count')).body.result).toBe(1);
    expect((await request(sc.app).options('/v1/data/users')).status).toBe(405);
  });
});

describe('Data API writes under a bundle root', () => {
  // A bundle directory (opa run --bundle): its manifest gives it the roots app and users.
  const bundle = tempPolicyDir({ '.manifest': JSON.stringify({ revision: 'r1', roots: ['app', 'users'] }), 'app.rego': POLICY, 'users/data.json': USERS });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_BUNDLES: bundle.dir });
  });
  afterAll(async () => {
    await sc.close();
    bundle.remove();
  });

  it('refuses PUT, PATCH and DELETE on a path a bundle owns, and allows others', async () => {
    expect(await decide(sc, 'alice')).toBe(true);
    const put = await request(sc.app).put('/v1/data/users/admins').send([]);
    expect(put.status).toBe(400);
    // A local bundle is named by its path, as `opa run --bundle PATH` names it.
    expect(put.body).toEqual({ code: 'invalid_parameter', message: `path users/admins is owned by bundle ${JSON.stringify(bundle.dir)}` });
    expect((await request(sc.app).patch('/v1/data').send([{ op: 'add', path: '/users/x', value: 1 }])).status).toBe(400);
    expect((await request(sc.app).delete('/v1/data/users')).status).toBe(400);
    expect((await request(sc.app).put('/v1/data').send({})).body.message).toBe("can't write to document root with bundle roots configured");
    expect((await request(sc.app).get('/v1/data/users/admins')).body.result).toEqual(['alice']);
    expect((await request(sc.app).put('/v1/data/elsewhere').type('json').send(json(1))).status).toBe(204);
    expect((await request(sc.app).get('/v1/data/elsewhere')).body.result).toBe(1);
  });

  it('names the bundle and its manifest revision under ?provenance', async () => {
    const res = await request(sc.app).post('/v1/data/app/allow?provenance').send({ input: { user: 'alice' } });
    expect(res.body.provenance.bundles).toEqual({ [sc.server.bundles!.names()[0]!]: { revision: 'r1' } });
  });
});

describe('who may write data', () => {
  const ADMIN = 'admin-token-for-data-writes';
  const CLIENT = 'client-token-for-data-writes';
  const files = tempPolicyDir({ 'app.rego': POLICY, 'users/data.json': USERS });
  let prod: PolicySidecarApp;
  let secured: PolicySidecarApp;
  beforeAll(async () => {
    prod = await sidecar({ POLICY_DIR: files.dir, NODE_ENV: 'production' });
    secured = await sidecar({
      POLICY_DIR: files.dir,
      NODE_ENV: 'production',
      POLICY_AUTHENTICATION: 'token',
      POLICY_AUTHORIZATION: 'basic',
      POLICY_TOKEN: CLIENT,
      POLICY_ADMIN_TOKEN: ADMIN,
    });
  });
  afterAll(async () => {
    await prod.close();
    await secured.close();
    files.remove();
  });

  it('refuses every write in production without authorization, as policy writes', async () => {
    for (const res of [
      await request(prod.app).put('/v1/data/users/admins').send(['mallory']),
      await request(prod.app).patch('/v1/data/users').send([{ op: 'add', path: '/admins/-', value: 'mallory' }]),
      await request(prod.app).delete('/v1/data/users'),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ code: 'unauthorized', message: expect.stringContaining('POLICY_AUTHORIZATION=basic') });
    }
    expect(await decide(prod, 'alice')).toBe(true);
  });

  it('lets system.authz decide: the client token may not write, the admin token may', async () => {
    const anonymous = await request(secured.app).put('/v1/data/users/admins').send(['mallory']);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ code: 'unauthorized', message: 'request rejected by administrative policy' });
    const client = await request(secured.app).patch('/v1/data/users').set('Authorization', `Bearer ${CLIENT}`).send([{ op: 'remove', path: '/admins' }]);
    expect(client.status).toBe(401);
    const admin = await request(secured.app).put('/v1/data/users/admins').set('Authorization', `Bearer ${ADMIN}`).send(['bob']);
    expect(admin.status).toBe(204);
    const decision = await request(secured.app).post('/v1/data/app/allow').set('Authorization', `Bearer ${CLIENT}`).send({ input: { user: 'bob' } });
    expect(decision.body.result).toBe(true);
  });
});
