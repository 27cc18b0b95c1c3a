import { describe, expect, it } from 'vitest';
import { AuditEventSchema } from '@cloud-stack/contracts';
import { toAuditEvent, type DecisionLogEntry } from '../src/index';

const entry: DecisionLogEntry = {
  labels: { app: 'policy-sidecar' },
  decision_id: 'd-1',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  path: 'gateway/authz/decision',
  input: { request: { method: 'GET', host: 'api.test', path: '/orders' }, subject: { sub: 'u1', tenant_id: 't1' }, route: { id: 'cp.orders' } },
  result: { allow: true, reasons: ['role ok'], obligations: {} },
  requested_by: '127.0.0.1:4000',
  timestamp: '2026-11-22T10:00:00.000Z',
  metrics: { timer_server_handler_ns: 2_000_000 },
  erased: ['/input/token'],
};

describe('toAuditEvent', () => {
  it('carries the decision log under details, which the audit schema keeps', () => {
    const event = toAuditEvent(entry);
    expect(event.details.decision_log).toBe(entry);
    expect(event).not.toHaveProperty('decision_log');

    const parsed = AuditEventSchema.parse(event);
    expect(parsed).toMatchObject({ category: 'policy_decision', tenant_id: 't1', user_id: 'u1', route_id: 'cp.orders', duration_ms: 2 });
    expect(parsed.details).toEqual({ decision_log: entry });
  });
});
