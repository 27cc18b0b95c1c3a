import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp, createLogger, errorHandler, jsonBody, jsonDepthExceeded, MAX_JSON_DEPTH } from './index';

const logger = createLogger('test', 'silent');
const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

describe('jsonDepthExceeded', () => {
  it('finds the first bracket past the limit, in text or in UTF-8 bytes', () => {
    expect(jsonDepthExceeded(nested(3), 3)).toBe(-1);
    expect(jsonDepthExceeded(nested(4), 3)).toBe(3);
    expect(jsonDepthExceeded(Buffer.from('{"a":[{"b":[1]}]}'), 3)).toBe(11);
    expect(jsonDepthExceeded(Buffer.from('{"é":[[["ü"]]]}'), 4)).toBe(-1);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeded(`{"a": "${'['.repeat(50)}", "b": "\\"[[[[", "c": [1]}`, 2)).toBe(-1);
  });

  it('counts objects and arrays alike and closes them', () => {
    expect(jsonDepthExceeded('[{"a": {"b": 1}}, [[1]], [[{"c": 1}]]]', 4)).toBe(-1);
    expect(jsonDepthExceeded('[[[[1]]], [[[[2]]]]]', 4)).toBe(13);
  });
});

describe('the shared JSON body parser', () => {
  const app = createApp({
    name: 'test',
    logger,
    bodyLimit: '1mb',
    mount: (a) => a.post('/echo', (req, res) => void res.json({ depthOk: true, keys: Object.keys(req.body as object) })),
  });

  it('refuses a body nested past the limit with a 400 problem naming it, not a 500', async () => {
    const res = await request(app).post('/echo').set('content-type', 'application/json').send(`{"input":${nested(200_000)}}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', detail: `request body nests JSON deeper than ${MAX_JSON_DEPTH} levels`, instance: '/echo' });
  });

  it('accepts a body exactly at the limit', async () => {
    const res = await request(app).post('/echo').set('content-type', 'application/json').send(`{"input":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ depthOk: true, keys: ['input'] });
  });

  it('is a parser a composition can mount itself, with its own limit', async () => {
    const own = express();
    own.use(jsonBody({ limit: '10kb', maxDepth: 2 }));
    own.post('/', (req, res) => void res.json(req.body));
    own.use(errorHandler(logger));
    expect((await request(own).post('/').send({ a: { b: 1 } })).status).toBe(200);
    const deep = await request(own).post('/').send({ a: { b: { c: 1 } } });
    expect(deep.status).toBe(400);
    expect(deep.body.detail).toBe('request body nests JSON deeper than 2 levels');
  });
});
