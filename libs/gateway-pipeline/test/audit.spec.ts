import { createServer, request, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '@cloud-stack/contracts';
import { RouteSpecSchema } from '@cloud-stack/gateway-routing';
import { MetricsRegistry } from '@cloud-stack/service-kit';
import { auditStage, type GatewayContext, type PendingEvents } from '../src/index';
import { testContext } from './context';

const route = RouteSpecSchema.parse({ id: 'audited', path: '/x', upstream: 'http://127.0.0.1:1' });

function contextOf(req: IncomingMessage, res: ServerResponse): GatewayContext {
  return testContext({ req, res, route });
}

/** The producer's side as the stage sees it: each event, and its confirmation settled by the test. */
class Producer {
  readonly events: AuditEventInput[] = [];
  private readonly settles: Array<(stored: boolean) => void> = [];
  private readonly waiters: Array<() => void> = [];

  emit = (event: AuditEventInput): Promise<boolean> => {
    this.events.push(event);
    for (const w of this.waiters.splice(0)) w();
    return new Promise((r) => this.settles.push(r));
  };

  confirm(stored = true): void {
    for (const s of this.settles.splice(0)) s(stored);
  }

  /** Resolves once `n` events have been emitted. */
  async emitted(n: number): Promise<void> {
    while (this.events.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
}

type Handler = (ctx: GatewayContext) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A server whose every request goes through the audit stage, then `handle`. */
async function serve(
  producer: Producer,
  holdMs: number,
  handle: Handler,
  unconfirmed?: MetricsRegistry,
  pending?: PendingEvents,
): Promise<{ port: number; contexts: GatewayContext[] }> {
  const run = auditStage({ emit: producer.emit, holdMs, unconfirmed: unconfirmed?.counter('unconfirmed_total', 'unconfirmed'), pending }).build(route)!;
  const contexts: GatewayContext[] = [];
  const begin = (req: IncomingMessage, res: ServerResponse) => {
    const ctx = contextOf(req, res);
    contexts.push(ctx);
    void run(ctx);
    handle(ctx);
  };
  const server = createServer(begin);
  // As the gateway's upgrade handler does: a response object on the raw socket, answered on the socket.
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    begin(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, contexts };
}

function get(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    request({ port, host: '127.0.0.1', path: '/x', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => done({ status: res.statusCode!, body }));
    })
      .on('error', fail)
      .end();
  });
}

describe('the audit stage', () => {
  it("holds the response's end until its event is stored, then the client gets the whole answer", async () => {
    const producer = new Producer();
    const { port, contexts } = await serve(producer, 60_000, ({ res }) => {
      res.statusCode = 201;
      res.end('made');
    });
    const answer = get(port);
    await producer.emitted(1);
    const { res } = contexts[0]!;
    // Nothing went out yet: not even the headers.
    expect({ headersSent: res.headersSent, ended: res.writableEnded }).toEqual({ headersSent: false, ended: false });
    expect(producer.events[0]).toMatchObject({ status: 201, route_id: 'audited', path: '/x', method: 'GET' });
    producer.confirm();
    expect(await answer).toEqual({ status: 201, body: 'made' });
    expect(producer.events).toHaveLength(1);
  });

  it('counts the requests whose event is still to come, and the count is down before the event is emitted', async () => {
    const producer = new Producer();
    const pending: PendingEvents = { count: 0 };
    const seen: number[] = [];
    const emit = producer.emit;
    producer.emit = (event) => {
      seen.push(pending.count);
      return emit(event);
    };
    const ends: Array<() => void> = [];
    const { port } = await serve(producer, 60_000, ({ res }) => void ends.push(() => res.end('ok')), undefined, pending);
    const answers = [get(port), get(port)];
    while (ends.length < 2) await new Promise((r) => setImmediate(r));
    expect(pending.count).toBe(2);
    ends[0]!();
    ends[1]!();
    producer.confirm();
    await producer.emitted(2);
    producer.confirm();
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual(['ok', 'ok']);
    expect(seen).toEqual([1, 0]);
    expect(pending.count).toBe(0);
  });

  it('holds a piped (streamed) body the same way: the chunks flow, the end waits', async () => {
    const producer = new Producer();
    const { port, contexts } = await serve(producer, 60_000, ({ res }) => {
      res.setHeader('content-type', 'text/plain');
      Readable.from(['a', 'b', 'c']).pipe(res);
    });
    const answer = get(port);
    await producer.emitted(1);
    expect({ headersSent: contexts[0]!.res.headersSent, ended: contexts[0]!.res.writableEnded }).toEqual({ headersSent: true, ended: false });
    producer.confirm();
    expect(await answer).toEqual({ status: 200, body: 'abc' });
    expect(producer.events.map((e) => e.status)).toEqual([200]);
  });

  it('ends the response anyway once the hold runs out (Redis slow or away), and counts it', async () => {
    const producer = new Producer();
    const metrics = new MetricsRegistry();
    const { port } = await serve(producer, 5, ({ res }) => res.end('late'), metrics);
    expect(await get(port)).toEqual({ status: 200, body: 'late' });
    expect(metrics.render()).toMatch(/unconfirmed_total 1/);
  });

  it('ends the response at once when the event is dropped, and counts it', async () => {
    const producer = new Producer();
    const metrics = new MetricsRegistry();
    const { port } = await serve(
      producer,
      60_000,
      ({ res }) => {
        res.end('dropped');
        producer.confirm(false);
      },
      metrics,
    );
    expect(await get(port)).toEqual({ status: 200, body: 'dropped' });
    expect(metrics.render()).toMatch(/unconfirmed_total 1/);
  });

  it('never holds with a hold of 0', async () => {
    const producer = new Producer();
    const { port } = await serve(producer, 0, ({ res }) => res.end('now'));
    expect(await get(port)).toEqual({ status: 200, body: 'now' });
    expect(producer.events).toHaveLength(1);
  });

  it('records a client that went away before the answer as 499, once', async () => {
    const producer = new Producer();
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const { port } = await serve(producer, 60_000, () => arrived());
    const req = request({ port, host: '127.0.0.1', path: '/x' }).on('error', () => undefined);
    req.end();
    await arrival;
    req.destroy();
    await producer.emitted(1);
    expect(producer.events.map((e) => e.status)).toEqual([499]);
  });

  it('records one event when the client goes away while the end is held, and ends quietly after', async () => {
    const producer = new Producer();
    const { port, contexts } = await serve(producer, 60_000, ({ res }) => res.end('gone'));
    const req = request({ port, host: '127.0.0.1', path: '/x' }).on('error', () => undefined);
    req.end();
    await producer.emitted(1);
    const { res } = contexts[0]!;
    const closed = new Promise((r) => res.once('close', r));
    req.destroy();
    await closed;
    producer.confirm();
    await new Promise((r) => setImmediate(r));
    expect(producer.events.map((e) => e.status)).toEqual([200]);
  });

  it("holds an upgrade's answer on the raw socket (a refusal) until its event is stored", async () => {
    const producer = new Producer();
    const { port, contexts } = await serve(producer, 60_000, (ctx) => {
      ctx.socketStatus = 403;
      ctx.res.socket!.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (c: string) => (received += c));
    const ended = new Promise((r) => socket.on('end', r));
    socket.write('GET /x HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await producer.emitted(1);
    expect(contexts[0]!.res.socket!.writableEnded).toBe(false);
    expect(producer.events[0]!.status).toBe(403);
    producer.confirm();
    await ended;
    expect(received).toMatch(/^HTTP\/1\.1 403 /);
    expect(producer.events).toHaveLength(1);
    socket.destroy();
  });
});
