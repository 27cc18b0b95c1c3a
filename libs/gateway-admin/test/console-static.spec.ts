import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import { consoleStatic } from '../src/index';

const root = mkdtempSync(join(tmpdir(), 'console-static-'));
const dist = join(root, 'dist');
mkdirSync(join(dist, 'assets'), { recursive: true });
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(dist, 'assets', 'app-3f2a1b.js'), 'console.log("app")');
writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
// A file next to the console's directory that no URL may reach.
writeFileSync(join(root, 'secret.txt'), 'do not serve');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function appFor(dir: string) {
  const app = express();
  app.use('/__gateway/console', consoleStatic({ dir, connectOrigins: ['http://127.0.0.1:3333/'], clientConfig: { identity_url: 'http://127.0.0.1:3333' } }));
  app.use((_req, res) => void res.status(418).end());
  return app;
}
const app = appFor(dist);
const BASE = '/__gateway/console';

describe('the console SPA', () => {
  it('serves index.html revalidated, with a page policy allowing identity for fetches', async () => {
    const res = await request(app).get(`${BASE}/`).expect(200);
    expect(res.text).toContain('<title>console</title>');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:3333;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('redirects the bare prefix to the directory, keeping the query', async () => {
    const res = await request(app).get(`${BASE}?x=1`).expect(301);
    expect(res.headers.location).toBe(`${BASE}/?x=1`);
  });

  it('caches hashed assets for a year and other files not at all', async () => {
    const asset = await request(app).get(`${BASE}/assets/app-3f2a1b.js`).expect(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    const icon = await request(app).get(`${BASE}/favicon.svg`).expect(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers index.html for the sign-in callback and deep links, but 404 for a missing asset', async () => {
    for (const path of ['/callback?code=abc&state=xyz', '/routes/agents.list', '/audit']) {
      const res = await request(app).get(`${BASE}${path}`).expect(200);
      expect(res.text).toContain('<title>console</title>');
      expect(res.headers['content-security-policy']).toBeDefined();
    }
    const missing = await request(app).get(`${BASE}/assets/gone-123.js`).expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses paths that climb out of the directory', async () => {
    for (const path of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt', '/%E0%A4%A']) {
      const res = await request(app).get(`${BASE}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.text, path).not.toContain('do not serve');
    }
  });

  it('serves the deployment settings as config.json', async () => {
    const res = await request(app).get(`${BASE}/config.json`).expect(200);
    expect(res.body).toEqual({ identity_url: 'http://127.0.0.1:3333' });
  });

  it('answers only GET and HEAD', async () => {
    const res = await request(app).post(`${BASE}/`).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('says so when the console is not built', async () => {
    const res = await request(appFor(join(root, 'missing'))).get(`${BASE}/`).expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(/console is not built/);
  });
});
