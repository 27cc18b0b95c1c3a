import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import { Queue } from 'bullmq';
import { AUDIT_QUEUE, auditBatchEvents, AuditBatchSchema, AuditEventSchema } from '@cloud-stack/contracts';
import { useRedisPrefix } from '@cloud-stack/test-kit';
import type { DecisionLogEntry } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const POLICY = `package login

allow if input.password == "open sesame"
`;

interface LoggedEvent {
  details: { decision_log: DecisionLogEntry };
}

describe('decision logs on the audit queue', () => {
  const redis = useRedisPrefix('policy-dlog');
  const files = tempPolicyDir({ 'login.rego': POLICY });
  let sc: PolicySidecarApp;
  let queue: Queue;

  async function loggedEvents(): Promise<LoggedEvent[]> {
    await sc.server.decisions!.flush();
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
    return jobs.flatMap((j) => auditBatchEvents(AuditBatchSchema.parse(j.data)) as LoggedEvent[]);
  }

  beforeAll(async () => {
    sc = await sidecar({
      POLICY_DIR: files.dir,
      DECISION_LOG_SINK: 'bullmq',
      REDIS_URL: redis.url,
      AUDIT_QUEUE_PREFIX: redis.prefix,
      DECISION_LOG_MASK: '/input/password,/input/token',
      DECISION_LOG_FLUSH_MS: '5',
    });
    // The audit queue is shipped from a worker thread: a first flush waits until it has started.
    await sc.server.decisions!.flush();
    const url = new URL(redis.url);
    queue = new Queue(AUDIT_QUEUE, { prefix: redis.prefix, connection: { host: url.hostname, port: Number(url.port || 6379) } });
  });
  afterAll(async () => {
    await sc.close();
    await queue.close();
    files.remove();
  });

  it('ships each decision in OPA’s decision-log shape, with masked input fields erased', async () => {
    const res = await request(sc.app)
      .post('/v1/data/login/allow')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .send({ input: { user: 'ali', password: 'open sesame', token: 'secret-token' } });
    expect(res.body.result).toBe(true);

    let entry: DecisionLogEntry | undefined;
    await vi.waitFor(async () => {
      entry = (await loggedEvents()).map((e) => e.details.decision_log).find((e) => e.decision_id === res.body.decision_id);
      expect(entry).toBeDefined();
    });
    expect(entry).toMatchObject({
      decision_id: res.body.decision_id,
      path: 'login/allow',
      input: { user: 'ali' },
      result: true,
      erased: ['/input/password', '/input/token'],
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      labels: { app: 'policy-sidecar' },
      metrics: { timer_rego_query_eval_ns: expect.any(Number), timer_server_handler_ns: expect.any(Number) },
    });
    expect(entry!.input).not.toHaveProperty('password');
    expect(new Date(entry!.timestamp).toISOString()).toBe(entry!.timestamp);
  });

  it('ships valid policy_decision audit events the audit writer accepts', async () => {
    const res = await request(sc.app).post('/v1/data/login/allow').send({ input: { password: 'wrong' } });
    let event: LoggedEvent | undefined;
    await vi.waitFor(async () => {
      event = (await loggedEvents()).find((e) => e.details.decision_log.decision_id === res.body.decision_id);
      expect(event).toBeDefined();
    });
    const parsed = AuditEventSchema.parse(event);
    expect(parsed).toMatchObject({ category: 'policy_decision', decision: { allow: false, decision_id: res.body.decision_id } });
    // The writer validates with AuditEventSchema: the decision log must survive that parse.
    expect(parsed.details?.decision_log).toMatchObject({ decision_id: res.body.decision_id, path: 'login/allow', metrics: expect.any(Object) });
    expect(parsed).not.toHaveProperty('decision_log');
  });

  it('does not make decisions wait for a sink that is down', async () => {
    const down = await sidecar({
      POLICY_DIR: files.dir,
      DECISION_LOG_SINK: 'bullmq',
      REDIS_URL: 'redis://127.0.0.1:1',
      AUDIT_QUEUE_PREFIX: redis.prefix,
      DECISION_LOG_BUFFER_SIZE: '2',
      DECISION_LOG_BATCH_SIZE: '100',
      DECISION_LOG_FLUSH_MS: '60000',
      DECISION_LOG_SEND_ATTEMPTS: '1',
      DECISION_LOG_CLOSE_TIMEOUT_MS: '500',
    });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await request(down.app).post('/v1/data/login/allow').send({ input: { password: 'open sesame' } });
        expect(res.body.result).toBe(true);
      }
      expect(down.server.decisions!.dropped).toBe(3);
      expect((await request(down.app).get('/metrics')).text).toMatch(/decision_logs_dropped_total 3/);
    } finally {
      await down.close();
    }
  });
});
