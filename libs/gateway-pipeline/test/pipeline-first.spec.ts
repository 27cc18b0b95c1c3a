import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger, errorHandler, HttpProblem } from '@cloud-stack/service-kit';
import { pipelineFirst } from '../src/index';

const OWN = /^\/(?:health|__gateway)(?:[/?]|$)/i;

/** An app shaped like the gateway's: a marker layer, own endpoints, then the pipeline and the error handler as its last layers. */
function gatewayLike(pipeline: RequestHandler) {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('X-Through-Router', 'yes');
    next();
  });
  app.get('/health', (_req, res) => void res.json({ own: 'health' }));
  app.use('/__gateway/admin', (_req, res) => void res.json({ own: 'admin' }));
  const onError = errorHandler(createLogger('pipeline-first-test', 'silent'));
  app.use(pipeline);
  app.use(onError);
  return { app, listener: pipelineFirst(app, OWN, pipeline, onError) };
}

const echo: RequestHandler = (req, res) => {
  // Express's request and response API works on the straight way too.
  res.status(200).json({ path: req.path, originalUrl: req.originalUrl, baseUrl: req.baseUrl, hasApp: typeof req.app?.get === 'function' });
};

describe('pipelineFirst', () => {
  it('sends own paths through the app, as Express matches them', async () => {
    const { listener } = gatewayLike(echo);
    for (const path of ['/health', '/HEALTH', '/health/', '/health?probe=1']) {
      const res = await supertest(listener).get(path);
      expect(res.status, path).toBe(200);
      expect(res.body, path).toEqual({ own: 'health' });
      expect(res.headers['x-through-router'], path).toBe('yes');
    }
    const admin = await supertest(listener).get('/__gateway/admin/routes');
    expect(admin.body).toEqual({ own: 'admin' });
  });

  it('sends every other path straight to the pipeline, with the request set up as Express would', async () => {
    const { listener } = gatewayLike(echo);
    const res = await supertest(listener).get('/api/v1/agents/7?x=1');
    expect(res.status).toBe(200);
    expect(res.headers['x-through-router']).toBeUndefined();
    expect(res.body).toEqual({ path: '/api/v1/agents/7', originalUrl: '/api/v1/agents/7?x=1', baseUrl: '', hasApp: true });
  });

  it('answers the same either way when an own path falls through to the pipeline', async () => {
    const { app, listener } = gatewayLike(echo);
    // POST /health is no own endpoint (GET only): Express passes it on to the pipeline.
    for (const target of [app, listener]) {
      const res = await supertest(target).post('/health/x');
      expect(res.status).toBe(200);
      expect(res.body.path).toBe('/health/x');
    }
  });

  it('turns a pipeline error into problem+json, and a request nothing answered into a 404', async () => {
    const failing = gatewayLike((_req, _res, next) => next(new HttpProblem(429, 'slow down', { headers: { 'Retry-After': '3' } })));
    const refused = await supertest(failing.listener).get('/api/x');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.headers['retry-after']).toBe('3');
    expect(refused.body).toMatchObject({ status: 429, detail: 'slow down', instance: '/api/x' });

    const passing = gatewayLike((_req, _res, next) => next());
    const missing = await supertest(passing.listener).get('/api/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, detail: 'no route for GET /api/nothing' });
  });

  it('sends an absolute-form request target through the app', async () => {
    const { listener } = gatewayLike(echo);
    const server = createServer(listener).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; router: unknown; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: `http://127.0.0.1:${port}/health` }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, router: res.headers['x-through-router'], body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(answer).toEqual({ status: 200, router: 'yes', body: JSON.stringify({ own: 'health' }) });
    } finally {
      server.close();
    }
  });
});
