import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import {
  AUDIT_BATCH_MAX_INFLATED_BYTES,
  AUDIT_DETAILS_MAX_BYTES,
  auditBatchEvents,
  AuditBatchSchema,
  AuditEventSchema,
  deflateAuditEvents,
  IntrospectionResponseSchema,
  PolicyInputSchema,
  PolicyResultSchema,
  ProblemSchema,
  impliedRoles,
  roleIncludes,
  uuidv7,
  uuidv7Time,
  UUID_PATTERN,
} from './index';

const event = {
  event_id: uuidv7(),
  occurred_at: '2026-11-22T10:00:00.000Z',
  correlation_id: 'c-1',
  causation_id: null,
  trace_id: null,
  tenant_id: 't1',
  user_id: 'u1',
  client_id: null,
  agent_id: null,
  route_id: 'r1',
  method: 'GET',
  host: 'api.example.com',
  path: '/v1/things',
  status: 200,
  duration_ms: 3.2,
  decision: { allow: true, reasons: ['rbac'], policy: 'gateway.authz', decision_id: 'd1' },
  sandbox_routed: false,
  trial_mode: false,
  upstream: 'http://upstream',
  ip: '127.0.0.1',
  user_agent: 'curl',
  error_code: null,
};

describe('uuidv7', () => {
  it('is a version-7 UUID carrying the millisecond timestamp', () => {
    const before = Date.now();
    const id = uuidv7();
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('7');
    expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before);
    expect(uuidv7Time(id)).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('sorts in creation order within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('roles', () => {
  it('admin includes everything below it but not owner', () => {
    expect(impliedRoles('admin')).toEqual(['admin', 'operator', 'developer', 'analyst', 'viewer']);
    expect(roleIncludes('admin', 'viewer')).toBe(true);
    expect(roleIncludes('admin', 'owner')).toBe(false);
  });

  it('customer stands outside the staff hierarchy', () => {
    expect(impliedRoles('customer')).toEqual(['customer']);
    expect(roleIncludes('owner', 'customer')).toBe(false);
  });
});

describe('schemas', () => {
  it('accepts a complete audit event and defaults its category to request', () => {
    expect(AuditEventSchema.parse(event).category).toBe('request');
  });

  it('rejects an audit event whose id is not a UUID', () => {
    const result = AuditEventSchema.safeParse({ ...event, event_id: 'x' });
    expect(result.success).toBe(false);
  });

  it('keeps an audit event\'s details, bounded by their serialized size', () => {
    expect(AuditEventSchema.parse(event).details ?? null).toBeNull();
    const details = { decision_log: { decision_id: 'd1', input: { a: [1, 2] }, result: { allow: true } } };
    expect(AuditEventSchema.parse({ ...event, details }).details).toEqual(details);
    expect(AuditEventSchema.parse({ ...event, details: null }).details).toBeNull();
    expect(AuditEventSchema.safeParse({ ...event, details: ['not', 'an', 'object'] }).success).toBe(false);

    const big = AuditEventSchema.safeParse({ ...event, details: { blob: 'x'.repeat(AUDIT_DETAILS_MAX_BYTES) } });
    expect(big.success).toBe(false);
    expect(big.error?.issues[0]?.path).toEqual(['details']);
    expect(big.error?.issues[0]?.message).toMatch(/at most 65536 bytes/);
  });

  it('tells active from inactive introspection answers', () => {
    expect(IntrospectionResponseSchema.parse({ active: false })).toEqual({ active: false });
    const active = IntrospectionResponseSchema.parse({ active: true, sub: 'u1', tenant_id: 't1', roles: ['viewer'] });
    expect(active.active && active.roles).toEqual(['viewer']);
    expect(IntrospectionResponseSchema.safeParse({ active: true, roles: ['emperor'] }).success).toBe(false);
  });

  it('validates the policy input and defaults obligations', () => {
    const input = {
      request: { method: 'POST', host: 'h', path: '/agents/a1/execute' },
      route: { id: 'r', params: { id: 'a1' }, permission: 'agent:execute', requires_governor: false, cost: 1 },
      subject: { authenticated: true, sub: 'u', tenant_id: 't', client_id: 'c', roles: ['customer'], is_governor: false, trial_mode: true, agent_id: 'a1' },
      budget: { monthly_spend: 10, cap: 100 },
    };
    expect(PolicyInputSchema.parse(input)).toEqual(input);
    expect(PolicyResultSchema.parse({ allow: false, reasons: ['budget_exceeded'] }).obligations).toEqual({});
  });

  it('requires the RFC 7807 members of a problem', () => {
    expect(ProblemSchema.safeParse({ type: 'about:blank', title: 'Not Found', status: 404 }).success).toBe(true);
    expect(ProblemSchema.safeParse({ title: 'Not Found', status: 404 }).success).toBe(false);
  });
});

describe('audit batches', () => {
  const batchId = uuidv7();

  it('carry their events plain or deflated, and the two read alike (multi-byte UTF-8 included)', () => {
    const events = [event, { ...event, event_id: uuidv7(), path: '/v1/other' }, { ...event, event_id: uuidv7(), path: '/v1/café/東京/🚀', user_agent: 'naïve\u0000"quoted"' }];
    const plain = AuditBatchSchema.parse({ batch_id: batchId, events });
    const deflated = AuditBatchSchema.parse({ batch_id: batchId, events_deflated: deflateAuditEvents(events.map((e) => JSON.stringify(e))) });
    expect(auditBatchEvents(plain)).toEqual(events);
    expect(auditBatchEvents(deflated)).toEqual(events);
    expect(deflated.events_deflated!.length).toBeLessThan(JSON.stringify(events).length);
    const one = AuditBatchSchema.parse({ batch_id: batchId, events_deflated: deflateAuditEvents([JSON.stringify(events[2])]) });
    expect(auditBatchEvents(one)).toEqual([events[2]]);
  });

  it('carry exactly one of events and events_deflated', () => {
    expect(AuditBatchSchema.safeParse({ batch_id: batchId }).success).toBe(false);
    expect(AuditBatchSchema.safeParse({ batch_id: batchId, events: [event], events_deflated: deflateAuditEvents([JSON.stringify(event)]) }).success).toBe(false);
    expect(AuditBatchSchema.safeParse({ batch_id: batchId, events: [] }).success).toBe(false);
  });

  it('refuse deflated events that are not a deflated, non-empty JSON array, or that inflate beyond the bound', () => {
    const read = (events_deflated: string) => () => auditBatchEvents(AuditBatchSchema.parse({ batch_id: batchId, events_deflated }));
    expect(read('bm90IGRlZmxhdGU=')).toThrow();
    expect(read(deflateRawSync('{"not":"an array"}').toString('base64'))).toThrow(/non-empty JSON array/);
    expect(read(deflateRawSync('[]').toString('base64'))).toThrow(/non-empty JSON array/);
    // A bomb: ~65 KiB that would inflate to more than the bound.
    const bomb = deflateRawSync(Buffer.alloc(AUDIT_BATCH_MAX_INFLATED_BYTES + 1, 0x20), { level: 9 }).toString('base64');
    expect(bomb.length).toBeLessThan(200_000);
    expect(read(bomb)).toThrow(RangeError);
  });
});
