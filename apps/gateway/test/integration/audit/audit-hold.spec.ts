import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_QUEUE, auditBatchEvents, type AuditBatch, type AuditEventInput } from '@cloud-stack/contracts';
import { testRedisUrl } from '@cloud-stack/test-kit';
import { demoRoutes, useGatewayStack } from '../../support/stack';

/**
 * A TCP relay to Redis for the gateway's audit queue that can stop passing commands on, so a test
 * sees what a client gets while its event cannot reach Redis (other files share the real Redis,
 * so pausing Redis itself is not an option).
 */
function pausableRelay(target: URL) {
  let server: Server | undefined;
  let paused = false;
  const parked: Array<[Socket, Buffer]> = [];
  return {
    url: '',
    async start() {
      server = createServer((client) => {
        const redis = connect(Number(target.port || 6379), target.hostname);
        redis.pipe(client);
        client.on('data', (chunk: Buffer) => (paused ? parked.push([redis, chunk]) : redis.write(chunk)));
        client.on('close', () => redis.destroy());
        redis.on('close', () => client.destroy());
        client.on('error', () => redis.destroy());
        redis.on('error', () => client.destroy());
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      this.url = `redis://127.0.0.1:${port}${target.pathname}`;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const [redis, chunk] of parked.splice(0)) redis.write(chunk);
    },
    async close() {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}

const relay = pausableRelay(new URL(testRedisUrl()));
// Registered before the stack's hooks: the relay listens before the gateway connects through it,
// and closes after the gateway has (after-hooks run in reverse order).
beforeAll(() => relay.start());
afterAll(() => relay.close());

// A hold longer than any test, so what is checked is the order (event stored, then the answer's
// end), not whether this machine's Redis answers within the default bound.
const stack = useGatewayStack({
  routes: demoRoutes,
  gatewayEnv: {
    AUDIT_HOLD_MS: '60000',
    get AUDIT_REDIS_URL() {
      return relay.url;
    },
  },
});

let queue: Queue<AuditBatch> | undefined;
afterAll(async () => queue?.close());

/** The gateway's events as they are in Redis right now: the producer is not flushed first. */
async function inRedis(): Promise<Map<string, AuditEventInput>> {
  queue ??= new Queue<AuditBatch>(AUDIT_QUEUE, { connection: { url: stack.redisUrl }, prefix: `${stack.redisPrefix}bull` });
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized']);
  return new Map(jobs.flatMap((j) => (auditBatchEvents(j.data) as AuditEventInput[]).map((e) => [e.correlation_id, e] as const)));
}

async function call(path: string, correlationId: string, token?: string): Promise<{ status: number; bytes: number }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: { 'x-correlation-id': correlationId, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  return { status: res.status, bytes: (await res.arrayBuffer()).byteLength };
}

describe("the gateway's audit events are in Redis before the client has its whole answer", () => {
  it('for proxied, streamed and refused requests, twenty at a time', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const requests = [
      ...Array.from({ length: 14 }, () => ({ path: '/api/v1/agents', token, status: 200 })),
      ...Array.from({ length: 2 }, () => ({ path: '/api/big?bytes=3000000', token, status: 200 })),
      ...Array.from({ length: 4 }, () => ({ path: '/api/v1/agents', token: undefined, status: 401 })),
    ].map((r) => ({ ...r, id: `hold-${randomUUID()}` }));
    const answers = await Promise.all(requests.map((r) => call(r.path, r.id, r.token)));
    expect(answers.map((a) => a.status)).toEqual(requests.map((r) => r.status));
    expect(answers.filter((a, i) => requests[i]!.path.startsWith('/api/big')).map((a) => a.bytes)).toEqual([3_000_000, 3_000_000]);
    const stored = await inRedis();
    expect(requests.map((r) => stored.get(r.id)?.status)).toEqual(requests.map((r) => r.status));
  });

  it('keeps back the last bytes of a Content-Length answer until its event is in Redis', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const id = `hold-${randomUUID()}`;
    relay.pause();
    let settled = false;
    const answer = call('/api/v1/agents?sized', id, token).finally(() => (settled = true));
    try {
      // Whatever this machine's speed, the answer cannot be whole while its event is parked.
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
    } finally {
      relay.resume();
    }
    const { status, bytes } = await answer;
    expect(status).toBe(200);
    expect(bytes).toBeGreaterThan(100);
    expect((await inRedis()).get(id)?.status).toBe(200);
  });
});
