import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { MAX_JSON_DEPTH } from '@cloud-stack/service-kit';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const TOO_DEEP = `body contains malformed input document: invalid character '[' exceeded max depth (${MAX_JSON_DEPTH})`;

describe('JSON nesting limit (Data API) and Rego nesting limit (Policy API)', () => {
  const files = tempPolicyDir({ 'echo.rego': 'package echo\n\nallow if input.user == "alice"\n\nechoed := input\n' });
  let sc: PolicySidecarApp;
  beforeAll(async () => {
    sc = await sidecar({ POLICY_DIR: files.dir, BODY_LIMIT: '1mb' });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('answers an input of 200,000 nested arrays with OPA’s 400, not 500 internal_error', async () => {
    const res = await request(sc.app).post('/v1/data/echo/allow').set('content-type', 'application/json').send(`{"input": ${nested(200_000)}}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_parameter', message: TOO_DEEP });
  });

  it('evaluates an input nested right up to the limit', async () => {
    // The body object is one level: the input may nest one less.
    const res = await request(sc.app).post('/v1/data/echo/echoed').set('content-type', 'application/json').send(`{"input": ${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body.result)).toBe(nested(MAX_JSON_DEPTH - 1));
  });

  it('does not count brackets inside strings', async () => {
    const res = await request(sc.app).post('/v1/data/echo/echoed').send({ input: { note: '['.repeat(5000) } });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ note: '['.repeat(5000) });
  });

  it('applies the limit to the GET input parameter', async () => {
    const res = await request(sc.app).get('/v1/data/echo/allow').query({ input: nested(MAX_JSON_DEPTH + 1) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_parameter', message: TOO_DEEP.replace('body', 'parameter') });
  });

  it('answers over-deep YAML bodies with 400 too (js-yaml’s own limit)', async () => {
    const yaml = Array.from({ length: 200 }, (_, i) => `${'  '.repeat(i + 1)}a:`).join('\n');
    const res = await request(sc.app).post('/v1/data/echo/allow').set('content-type', 'application/x-yaml').send(`input:\n${yaml} 1\n`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_parameter', message: expect.stringMatching(/^body contains malformed input document: nesting exceeded maxDepth/) });
  });

  it('refuses a policy nested past the parser’s limit with 400 rego_parse_error, not 500', async () => {
    const res = await request(sc.app).put('/v1/policies/deep').set('content-type', 'text/plain').send(`package deep\n\nx := ${nested(200_000)}\n`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'invalid_parameter',
      errors: [{ code: 'rego_parse_error', message: 'max parsing recursion depth exceeded', location: { file: 'deep', row: 3 } }],
    });
  });
});
