import { describe, expect, it } from 'vitest';
import { AuditEventSchema } from '@cloud-stack/contracts';
import { toAuditEvent, type DecisionLogEntry } from '../src/index';

const entry: DecisionLogEntry = {
  labels: { app: 'policy-sidecar' },
  decision_id: 'd-1',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  correlation_id: 'c-1',
  path: 'gateway/authz/decision',
  input: {
    request: { method: 'GET', host: 'api.test', path: '/orders', correlation_id: 'c-1' },
    subject: { sub: 'u1', tenant_id: 't1', roles: ['viewer'], trial_mode: false },
    route: { id: 'cp.orders', params: { id: '7' } },
  },
  result: { allow: true, reasons: ['role ok'], obligations: { route_to: 'sandbox' } },
  requested_by: '127.0.0.1:4000',
  timestamp: '2026-11-22T10:00:00.000Z',
  metrics: { timer_server_handler_ns: 2_000_000 },
  erased: ['/input/token'],
};

describe('toAuditEvent', () => {
  it('carries each fact once: the event fields, and under details only what they do not hold', () => {
    const event = toAuditEvent(entry);
    expect(event).not.toHaveProperty('decision_log');

    const parsed = AuditEventSchema.parse(event);
    expect(parsed).toMatchObject({
      category: 'policy_decision',
      correlation_id: 'c-1',
      tenant_id: 't1',
      user_id: 'u1',
      route_id: 'cp.orders',
      method: 'GET',
      host: 'api.test',
      path: '/orders',
      ip: '127.0.0.1:4000',
      duration_ms: 2,
      decision: { allow: true, reasons: ['role ok'], decision_id: 'd-1' },
      sandbox_routed: true,
    });
    expect(parsed.details).toEqual({
      decision_log: {
        labels: { app: 'policy-sidecar' },
        decision_id: 'd-1',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        path: 'gateway/authz/decision',
        input: { request: { correlation_id: 'c-1' }, subject: { roles: ['viewer'] }, route: { params: { id: '7' } } },
        result: { obligations: { route_to: 'sandbox' } },
        timestamp: '2026-11-22T10:00:00.000Z',
        metrics: { timer_server_handler_ns: 2_000_000 },
        erased: ['/input/token'],
      },
    });
  });

  it('keeps in details what the event would cut or cannot hold', () => {
    const long = 'x'.repeat(300);
    const event = toAuditEvent({ ...entry, input: { subject: { sub: long, tenant_id: 7 }, user: 'ali' }, result: true });
    expect(event.user_id).toBe(long.slice(0, 200));
    expect(event.details.decision_log.input).toEqual({ subject: { sub: long, tenant_id: 7 }, user: 'ali' });
    expect(event.details.decision_log.result).toBe(true);
  });

  it('leaves input and result out when the event holds all of them', () => {
    const event = toAuditEvent({ ...entry, input: { subject: { sub: 'u1' } }, result: { allow: false } });
    expect(event.details.decision_log).not.toHaveProperty('input');
    expect(event.details.decision_log).not.toHaveProperty('result');
    expect(event.decision?.allow).toBe(false);
  });
});
