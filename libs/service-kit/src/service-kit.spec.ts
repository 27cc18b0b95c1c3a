import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp, createLogger, env, HttpProblem, MetricsRegistry, readConfig, ConfigError, requireInProduction, startServer } from './index';

const logger = createLogger('test', 'silent');

describe('readConfig', () => {
  const shape = { PORT: env.port(3000), DATABASE_URL: env.url(), DEBUG: env.bool(false), TAGS: env.list(['a']) };

  it('applies defaults and coerces types', () => {
    expect(readConfig(shape, { DATABASE_URL: 'postgres://x/y', DEBUG: 'yes' })).toEqual({
      PORT: 3000,
      DATABASE_URL: 'postgres://x/y',
      DEBUG: true,
      TAGS: ['a'],
    });
  });

  it('names the variable in one line when a value is bad or missing', () => {
    expect(() => readConfig(shape, { DATABASE_URL: 'postgres://x/y', PORT: '99999' })).toThrow(/^config error: PORT: "99999" is invalid/);
    expect(() => readConfig(shape, {})).toThrow(new ConfigError('DATABASE_URL', 'is required'));
  });
});

describe('requireInProduction', () => {
  const secrets = ['SIGNING_KEY_SECRETS', 'DATABASE_URL'];

  it('refuses a missing or empty secret in production, naming the variable', () => {
    expect(() => requireInProduction({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y' }, secrets)).toThrow(
      new ConfigError('SIGNING_KEY_SECRETS', 'is required when NODE_ENV=production'),
    );
    expect(() => requireInProduction({ NODE_ENV: 'production', SIGNING_KEY_SECRETS: 's', DATABASE_URL: ' ' }, secrets)).toThrow(
      /^config error: DATABASE_URL: is required when NODE_ENV=production$/,
    );
  });

  it('accepts production with every secret set, and any other mode without them', () => {
    expect(() => requireInProduction({ NODE_ENV: 'production', SIGNING_KEY_SECRETS: 's', DATABASE_URL: 'postgres://x/y' }, secrets)).not.toThrow();
    expect(() => requireInProduction({ NODE_ENV: 'development' }, secrets)).not.toThrow();
    expect(() => requireInProduction({}, secrets)).not.toThrow();
  });
});

describe('createApp', () => {
  let healthy = true;
  const metrics = new MetricsRegistry();
  const app = createApp({
    name: 'test',
    logger,
    metrics,
    bodyLimit: '1kb',
    checks: [
      {
        name: 'db',
        check: async () => {
          if (!healthy) throw new Error('connection refused');
        },
      },
    ],
    mount: (a) => {
      a.post('/echo', (req, res) => {
        res.json(req.body);
      });
      a.get('/teapot', () => {
        throw new HttpProblem(418, 'short and stout', { title: "I'm a teapot", extensions: { code: 'teapot' } });
      });
      a.get('/boom', () => {
        throw new Error('secret internal detail');
      });
    },
  });

  it('answers /health and reports failing readiness checks by name', async () => {
    await request(app).get('/health').expect(200, { status: 'ok', service: 'test' });
    await request(app).get('/ready').expect(200);
    healthy = false;
    const res = await request(app).get('/ready').expect(503);
    expect(res.body.checks).toEqual([{ name: 'db', ok: false, error: 'connection refused' }]);
    healthy = true;
  });

  it('echoes a given correlation id and makes one when absent or unsafe', async () => {
    const given = await request(app).get('/health').set('X-Correlation-ID', 'abc-123');
    expect(given.headers['x-correlation-id']).toBe('abc-123');
    const unsafe = await request(app).get('/health').set('X-Correlation-ID', 'a b\tc');
    expect(unsafe.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns thrown problems into problem+json with instance and correlation id', async () => {
    const res = await request(app).get('/teapot').set('X-Correlation-ID', 'cid-1').expect(418);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: "I'm a teapot",
      status: 418,
      detail: 'short and stout',
      instance: '/teapot',
      correlation_id: 'cid-1',
      code: 'teapot',
    });
  });

  it('never leaks internals of unexpected errors', async () => {
    const res = await request(app).get('/boom').expect(500);
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(res.body.detail).toBe('an internal error occurred');
  });

  it('answers malformed and oversized bodies with problem+json', async () => {
    const bad = await request(app).post('/echo').set('content-type', 'application/json').send('{"a":').expect(400);
    expect(bad.body.detail).toBe('request body is not valid JSON');
    const big = await request(app).post('/echo').send({ a: 'x'.repeat(2000) }).expect(413);
    expect(big.headers['content-type']).toMatch(/problem\+json/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await request(app).get('/nope').expect(404);
    expect(res.body.title).toBe('Not Found');
  });

  it('exposes Prometheus metrics', async () => {
    const res = await request(app).get('/metrics').expect(200);
    expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(res.text).toMatch(/http_request_duration_seconds_count\{status="2xx"\} \d+/);
  });
});

describe('startServer', () => {
  it('drains in-flight requests before running shutdown hooks', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (reached = r));
    const app = createApp({
      name: 'drain',
      logger,
      mount: (a) =>
        a.get('/slow', async (_req, res) => {
          const released = new Promise<void>((r) => (release = r));
          reached();
          await released;
          order.push('responded');
          res.json({ done: true });
        }),
    });
    const running = await startServer(app, { port: 0, host: '127.0.0.1', logger, handleSignals: false, onShutdown: [async () => void order.push('hook')] });
    const inflight = fetch(`http://127.0.0.1:${running.port}/slow`).then((r) => r.json());
    // Close only once the request is in the handler (a fixed sleep loses that race on a busy machine).
    await inHandler;
    const closed = running.close();
    release();
    expect(await inflight).toEqual({ done: true });
    await closed;
    expect(order).toEqual(['responded', 'hook']);
  });

  it('flushes what must not be lost first, while requests still drain', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (reached = r));
    const app = createApp({
      name: 'flush-first',
      logger,
      mount: (a) =>
        a.get('/slow', async (_req, res) => {
          const released = new Promise<void>((r) => (release = r));
          reached();
          await released;
          order.push('responded');
          res.json({ done: true });
        }),
    });
    const running = await startServer(app, {
      port: 0,
      host: '127.0.0.1',
      logger,
      handleSignals: false,
      onShutdownStart: [
        async () => {
          order.push('flushed');
          release(); // the request finishes only after the flush has run
        },
      ],
      onShutdown: [async () => void order.push('closed')],
    });
    const inflight = fetch(`http://127.0.0.1:${running.port}/slow`).then((r) => r.json());
    await inHandler;
    await running.close();
    expect(await inflight).toEqual({ done: true });
    expect(order).toEqual(['flushed', 'responded', 'closed']);
  });

  it("creates an Express app's requests and responses with its prototypes, also behind a listener of its own", async () => {
    const app = createApp({ name: 'born', logger, mount: (a) => a.get('/proto', (req, res) => res.json({ ip: req.ip, path: req.path })) });
    const direct = await startServer(app, { port: 0, host: '127.0.0.1', logger, handleSignals: false });
    // A listener in front of the app, as the gateway's: the prototypes come from `express`.
    const front = await startServer((req, res) => app(req, res), { port: 0, host: '127.0.0.1', logger, handleSignals: false, express: app });
    // Seen before Express's own re-parenting runs: what node:http created.
    const born: boolean[] = [];
    for (const { server } of [direct, front]) server.prependListener('request', (req, res) => born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response));
    try {
      for (const running of [direct, front]) {
        const res = await fetch(`http://127.0.0.1:${running.port}/proto?x=1`);
        expect(await res.json()).toEqual({ ip: '127.0.0.1', path: '/proto' });
        expect((await fetch(`http://127.0.0.1:${running.port}/nope`)).status).toBe(404);
      }
      expect(born).toEqual([true, true, true, true]);
    } finally {
      await Promise.all([direct.close(), front.close()]);
    }
  });

  it('ends the shutdown within its budget when a request and a hook never finish', async () => {
    const ran: string[] = [];
    let reached: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (reached = r));
    const app = createApp({
      name: 'budget',
      logger,
      mount: (a) => a.get('/stuck', () => reached()), // never answers
    });
    const running = await startServer(app, {
      port: 0,
      host: '127.0.0.1',
      logger,
      handleSignals: false,
      shutdownTimeoutMs: 300,
      onShutdown: [() => new Promise<void>(() => ran.push('hung')), async () => void ran.push('after')],
    });
    const stuck = fetch(`http://127.0.0.1:${running.port}/stuck`).then(
      () => 'answered',
      () => 'cut',
    );
    await inHandler;
    // Resolving at all is the point: without the budget this waits for the hung hook forever.
    await running.close();
    expect(await stuck).toBe('cut');
    expect(ran).toEqual(['hung', 'after']);
  });
});

describe('MetricsRegistry', () => {
  it('renders one series per label set, in name order, escaped; bound series add to the same lines', () => {
    const metrics = new MetricsRegistry();
    const requests = metrics.counter('requests_total', 'Requests');
    requests.inc({ status: '200', route: 'a' });
    requests.labels({ route: 'a', status: '200' }).inc(2);
    requests.inc({ route: 'say "hi"\\\n' });
    const latency = metrics.histogram('latency_seconds', 'Latency', [0.1, 1]);
    const bound = latency.labels({ route: 'a' });
    bound.observe(0.05);
    latency.observe(0.5, { route: 'a' });
    const text = metrics.render();
    expect(text).toContain('requests_total{route="a",status="200"} 3\n');
    expect(text).toContain('requests_total{route="say \\"hi\\"\\\\\\n"} 1');
    expect(text).toContain('latency_seconds_bucket{le="0.1",route="a"} 1\nlatency_seconds_bucket{le="1",route="a"} 2\nlatency_seconds_bucket{le="+Inf",route="a"} 2');
    expect(text).toContain('latency_seconds_sum{route="a"} 0.55\nlatency_seconds_count{route="a"} 2');
  });
});
