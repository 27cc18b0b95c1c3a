import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_QUEUE, type AuditBatch, type AuditEventInput } from '@cloud-stack/contracts';
import { demoRoutes, useGatewayStack } from '../../support/stack';

// A hold longer than any test, so what is checked is the order (event stored, then the answer's
// end), not whether this machine's Redis answers within the default bound.
const stack = useGatewayStack({ routes: demoRoutes, gatewayEnv: { AUDIT_HOLD_MS: '60000' } });

let queue: Queue<AuditBatch> | undefined;
afterAll(async () => queue?.close());

/** The gateway's events as they are in Redis right now: the producer is not flushed first. */
async function inRedis(): Promise<Map<string, AuditEventInput>> {
  queue ??= new Queue<AuditBatch>(AUDIT_QUEUE, { connection: { url: stack.redisUrl }, prefix: `${stack.redisPrefix}bull` });
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized']);
  return new Map(jobs.flatMap((j) => (j.data.events as AuditEventInput[]).map((e) => [e.correlation_id, e] as const)));
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
});
