import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp, createLogger } from './index';

describe('a readiness check that warns', () => {
  it('keeps the service ready and shows the warning beside the check', async () => {
    const app = createApp({
      name: 't',
      logger: createLogger('test', 'silent'),
      checks: [
        { name: 'store', check: async () => undefined },
        { name: 'store-durability', check: async () => ({ warning: 'keeps nothing on disk' }) },
      ],
      mount: () => undefined,
    });
    const res = await request(app).get('/ready').expect(200);
    expect(res.body.checks).toEqual([
      { name: 'store', ok: true },
      { name: 'store-durability', ok: true, warning: 'keeps nothing on disk' },
    ]);
  });
});
