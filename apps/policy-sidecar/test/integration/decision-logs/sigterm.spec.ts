import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { AUDIT_QUEUE, auditBatchEvents, AuditBatchSchema, AuditEventSchema } from '@cloud-stack/contracts';
import { freePort, startProcess, useRedisPrefix, waitForReady, type ServiceProcess } from '@cloud-stack/test-kit';
import { startTestLogService, type TestLogService } from '../../support/log-service';
import { tempPolicyDir } from '../../support/sidecar';

const POLICY = `package login

allow if input.password == "open sesame"
`;

/**
 * The sidecar as a process under steady decisions from `clients` keep-alive connections; SIGTERM
 * once `before` decisions are answered. Resolves with every decision id answered (200) and the
 * process's exit code, once it has exited.
 */
async function decideThroughSigterm(sidecar: ServiceProcess, clients: number, before: number): Promise<{ answered: string[]; code: number | null }> {
  const answered: string[] = [];
  let signalled = false;
  const exited = new Promise<number | null>((resolve) => sidecar.child.once('exit', (code) => resolve(code)));
  const client = async (): Promise<void> => {
    for (;;) {
      let res: Response;
      try {
        res = await fetch(`${sidecar.url}/v1/data/login/allow`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input: { user: 'ali', password: 'open sesame' } }),
        });
      } catch {
        // Refused or reset: the sidecar has stopped taking requests.
        if (signalled) return;
        throw new Error(`the sidecar failed before SIGTERM:\n${sidecar.output().slice(-2000)}`);
      }
      const body = (await res.json()) as { decision_id?: string };
      if (res.status === 200 && body.decision_id) answered.push(body.decision_id);
      if (!signalled && answered.length >= before) {
        signalled = true;
        sidecar.child.kill('SIGTERM');
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { answered, code: await exited };
}

/** Polls /metrics until the decision-log worker has started (it reports the buffered gauge once up). */
async function waitForDecisionLogWorker(sidecar: ServiceProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const text = await (await fetch(`${sidecar.url}/metrics`)).text();
    if (/^decision_logs_buffered /m.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the decision-log worker did not start:\n${sidecar.output().slice(-2000)}`);
}

describe('no decision log is lost on SIGTERM', { timeout: 120_000 }, () => {
  const files = tempPolicyDir({ 'login.rego': POLICY });
  const redis = useRedisPrefix('policy-sigterm');
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    files.remove();
  });

  const common = {
    POLICY_DIR: files.dir,
    POLICY_WATCH: 'false',
    // Nothing ships on a timer before the signal: what arrives was shipped by the shutdown.
    DECISION_LOG_FLUSH_MS: '600000',
    SHUTDOWN_TIMEOUT_MS: '8000',
    DECISION_LOG_CLOSE_TIMEOUT_MS: '3000',
  };

  it('audit queue: every answered decision is in the queue after the sidecar exits', async () => {
    const port = await freePort();
    const sidecar = startProcess('policy-sidecar', 'apps/policy-sidecar/src/main.ts', port, {
      ...common,
      DECISION_LOG_SINK: 'bullmq',
      REDIS_URL: redis.url,
      AUDIT_QUEUE_PREFIX: redis.prefix,
    });
    cleanup.push(() => sidecar.stop());
    await waitForReady(sidecar);
    await waitForDecisionLogWorker(sidecar);

    const { answered, code } = await decideThroughSigterm(sidecar, 8, 300);
    expect(code).toBe(0);
    expect(answered.length).toBeGreaterThanOrEqual(300);

    const url = new URL(redis.url);
    const queue = new Queue(AUDIT_QUEUE, { prefix: redis.prefix, connection: { host: url.hostname, port: Number(url.port || 6379) } });
    cleanup.push(() => queue.close());
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    const queued = new Set(jobs.flatMap((j) => auditBatchEvents(AuditBatchSchema.parse(j.data)).map((e) => AuditEventSchema.parse(e).decision?.decision_id)));
    expect(answered.filter((id) => !queued.has(id))).toEqual([]);
  });

  it('remote log service: every answered decision reached the service after the sidecar exits', async () => {
    const logs: TestLogService = await startTestLogService();
    cleanup.push(() => logs.close());
    const port = await freePort();
    const sidecar = startProcess('policy-sidecar', 'apps/policy-sidecar/src/main.ts', port, {
      ...common,
      DECISION_LOG_SINK: 'http',
      DECISION_LOG_SERVICE_URL: logs.url,
      DECISION_LOG_MIN_DELAY_MS: '600000',
      DECISION_LOG_MAX_DELAY_MS: '600000',
    });
    cleanup.push(() => sidecar.stop());
    await waitForReady(sidecar);
    await waitForDecisionLogWorker(sidecar);

    const { answered, code } = await decideThroughSigterm(sidecar, 8, 300);
    expect(code).toBe(0);
    expect(answered.length).toBeGreaterThanOrEqual(300);

    const received = new Set(logs.events().map((e) => e.decision_id));
    expect(answered.filter((id) => !received.has(id))).toEqual([]);
    // Each decision once: a retried or repeated upload would show here.
    expect(logs.events()).toHaveLength(received.size);
  });
});
