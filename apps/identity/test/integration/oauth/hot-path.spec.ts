import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { PROBLEM_CONTENT_TYPE, UUID_PATTERN } from '@cloud-stack/contracts';
import { introspect, useIdentity, GATEWAY } from '../../support/harness';

const h = useIdentity({ BODY_LIMIT: '2kb' });

const durationCount = async (): Promise<number> => {
  const text = (await request(h.app).get('/metrics')).text;
  const m = /^http_request_duration_seconds_count\{status="2xx"\} (\d+)$/m.exec(text);
  return Number(m?.[1] ?? 0);
};

describe('the hot path (node:http in front of Express)', () => {
  it('answers an introspection with the correlation id it was given, no-store and no ETag', async () => {
    const { access_token } = await h.login('customer@acme.example');
    const res = await introspect(h, access_token).set('X-Correlation-ID', 'trace-42');
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect(res.headers['x-correlation-id']).toBe('trace-42');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers.etag).toBeUndefined();
  });

  it('makes a UUIDv7 correlation id when the caller sent none, or a malformed one', async () => {
    const res = await request(h.app).get('/health').set('X-Correlation-ID', 'bad id\twith spaces');
    expect(res.body).toEqual({ status: 'ok', service: 'identity' });
    expect(res.headers['x-correlation-id']).toMatch(UUID_PATTERN);
    expect(res.headers['x-correlation-id']![14]).toBe('7');
  });

  it('records every hot request in http_request_duration_seconds', async () => {
    const before = await durationCount();
    await request(h.app).get('/health');
    await request(h.app).post('/oauth/token').auth(GATEWAY, h.secret(GATEWAY)).type('form').send({ grant_type: 'client_credentials' });
    // The /metrics request that reads the count is itself counted once it finishes.
    expect((await durationCount()) - before).toBe(3);
  });

  it('answers OAuth errors as RFC 6749 JSON with the Basic challenge and the correlation id', async () => {
    const res = await request(h.app).post('/oauth/token').auth(GATEWAY, 'wrong').type('form').set('X-Correlation-ID', 'c-1').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(res.headers['x-correlation-id']).toBe('c-1');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a repeated parameter with invalid_request', async () => {
    const res = await request(h.app).post('/oauth/introspect').auth(GATEWAY, h.secret(GATEWAY)).type('form').send('token=a&token=b');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers a body over the limit with a 413 problem carrying the correlation id', async () => {
    const res = await request(h.app)
      .post('/oauth/introspect')
      .auth(GATEWAY, h.secret(GATEWAY))
      .type('form')
      .set('X-Correlation-ID', 'big-1')
      .send(`token=${'a'.repeat(4096)}`);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.body).toMatchObject({ status: 413, instance: '/oauth/introspect', correlation_id: 'big-1' });
  });

  it('leaves a compressed form to Express, which answers it the same way', async () => {
    const { access_token } = await h.login('customer@acme.example');
    const res = await request(h.app)
      .post('/oauth/introspect')
      .auth(GATEWAY, h.secret(GATEWAY))
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'gzip')
      // superagent would form-encode the Buffer; the serializer's result goes out as is (typed string, a Buffer works).
      .serialize((body: Buffer) => body as unknown as string)
      .send(gzipSync(new URLSearchParams({ token: access_token }).toString()));
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('leaves a JSON body to Express, which refuses it as OAuth requires', async () => {
    const res = await request(h.app).post('/oauth/introspect').auth(GATEWAY, h.secret(GATEWAY)).send({ token: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
