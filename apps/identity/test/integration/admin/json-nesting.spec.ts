import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { useIdentity } from '../../support/harness';

const h = useIdentity();

describe('a JSON body nested too deep', () => {
  it('is refused with 400 problem+json before it is parsed, not a 500', async () => {
    const { access_token: token } = await h.login('admin@cloudstack.example');
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await request(h.app)
      .post('/v1/tenants')
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send(`{"id":"x","name":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.detail).toMatch(/deeper than 1000 levels/);
  });
});
