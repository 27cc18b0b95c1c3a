import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp, createLogger } from './index';

class StoreDown extends Error {
  readonly status = 503;
  readonly dependency = 'database';
  readonly retryAfterSeconds = 2;
}

describe('an unavailable dependency', () => {
  it('is answered 503 problem+json with Retry-After, naming the dependency but not the cause', async () => {
    const app = createApp({
      name: 't',
      logger: createLogger('test', 'silent'),
      mount: (a) =>
        a.get('/x', () => {
          throw new StoreDown('terminating connection due to administrator command');
        }),
    });
    const res = await request(app).get('/x');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body).toMatchObject({ status: 503, title: 'Service Unavailable', detail: expect.stringMatching(/database is unavailable/), instance: '/x' });
    expect(JSON.stringify(res.body)).not.toMatch(/administrator/);
  });
});
