import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionLogEntry, DecisionLogSink } from '@cloud-stack/policy-server';
import type { PolicySidecarApp } from '../../../src/app';
import { sidecar, tempPolicyDir } from '../../support/sidecar';

const APP = `package app

allow if input.password == "open sesame"

decision := {"allow": allow, "secret": "internal"}
`;

// OPA's documented shape: erase by path, or upsert a placeholder, deciding on the event.
const MASK = `package system.log

mask contains "/input/password"

mask contains {"op": "upsert", "path": "/input/card/number", "value": "****"} if input.input.card

mask contains "/result/secret" if input.path == "app/decision"
`;

describe('decision-log masking by the system.log.mask policy', () => {
  const files = tempPolicyDir({ 'app.rego': APP, 'system/log/mask.rego': MASK });
  const shipped: DecisionLogEntry[] = [];
  const sink: DecisionLogSink = {
    send: async (entries) => {
      shipped.push(...entries);
    },
    close: async () => undefined,
  };
  let sc: PolicySidecarApp;

  const logged = async (decisionId: string): Promise<DecisionLogEntry | undefined> => {
    await sc.server.decisions!.flush();
    return shipped.find((e) => e.decision_id === decisionId);
  };

  beforeAll(async () => {
    // DECISION_LOG_MASK still applies after the policy, adding to `erased`.
    sc = await sidecar({ POLICY_DIR: files.dir, DECISION_LOG_MASK: '/input/token' }, { sink });
  });
  afterAll(async () => {
    await sc.close();
    files.remove();
  });

  it('erases and upserts input and result fields in the log, never in the answer', async () => {
    const input = { user: 'ali', password: 'open sesame', token: 't', card: { number: '4111111111111111', holder: 'ali' } };
    const res = await request(sc.app).post('/v1/data/app/decision').send({ input });
    expect(res.body.result).toEqual({ allow: true, secret: 'internal' });

    const entry = await logged(res.body.decision_id);
    expect(entry).toMatchObject({
      path: 'app/decision',
      input: { user: 'ali', card: { number: '****', holder: 'ali' } },
      result: { allow: true },
      erased: ['/input/password', '/result/secret', '/input/token'],
      masked: ['/input/card/number'],
    });
    expect(entry!.input).not.toHaveProperty('password');
    expect(entry!.input).not.toHaveProperty('token');
  });

  it('decides per event: a rule whose condition fails leaves its field', async () => {
    const res = await request(sc.app).post('/v1/data/app/allow').send({ input: { password: 'wrong' } });
    const entry = await logged(res.body.decision_id);
    expect(entry).toMatchObject({ path: 'app/allow', input: {}, erased: ['/input/password'] });
    expect(entry).not.toHaveProperty('masked');
  });

  it('drops the entry, counted, when the mask policy fails, and masks again once it is fixed', async () => {
    const broken = 'package system.log\n\nmask := ["/input/a"] if input.path\n\nmask := ["/input/b"] if input.decision_id\n';
    await request(sc.app).put('/v1/policies/system/log/mask.rego').set('Content-Type', 'text/plain').send(broken).expect(200);
    const dropped = sc.server.decisions!.dropped;
    const res = await request(sc.app).post('/v1/data/app/allow').send({ input: { password: 'open sesame' } });
    expect(res.body.result).toBe(true);
    expect(await logged(res.body.decision_id)).toBeUndefined();
    expect(sc.server.decisions!.dropped).toBe(dropped + 1);

    await request(sc.app).put('/v1/policies/system/log/mask.rego').set('Content-Type', 'text/plain').send(MASK).expect(200);
    const again = await request(sc.app).post('/v1/data/app/allow').send({ input: { password: 'open sesame' } });
    expect((await logged(again.body.decision_id))?.erased).toEqual(['/input/password']);
  });
});
