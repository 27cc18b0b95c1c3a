import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FAULTS } from './faults';
import { renderTable } from './report';
import { ROOT } from './stack';
import { runChaos } from './suite';

// The short form of `npm run chaos`: a killed writer (its lock and stalled interval shortened so
// its jobs come back within seconds), the gateway SIGKILLed the moment it answered (that request's
// audit event must already be in Redis), PostgreSQL and Redis restarts, and the gateway's most
// telling faults: identity down and the policy down (503 once nothing is cached, a fail-open route
// degraded, never a 200 that skipped a check), an upstream down (502, then 503 at once).
const SHORT = ['kill-audit-writer', 'kill-gateway', 'identity-down', 'policy-sidecar-down', 'upstream-down', 'pg-restart', 'redis-restart'];

describe('chaos, short form', () => {
  it('survives a killed writer and gateway, identity, the policy and an upstream down, restarted PostgreSQL and Redis: clean answers, audit events once', { timeout: 300_000 }, async () => {
    const results = await runChaos({
      faults: FAULTS.filter((f) => SHORT.includes(f.id)),
      settleMs: 1000,
      recoverTimeoutMs: 60_000,
      auditLockMs: 3000,
      auditStalledMs: 1000,
      logDir: join(ROOT, 'tmp', 'chaos-short'),
    });
    console.info(`\n${renderTable(results)}`);
    expect(results.map((r) => r.id)).toEqual(FAULTS.map((f) => f.id).filter((id) => SHORT.includes(id)));
    for (const r of results) {
      expect(r.requests.ok, `${r.id}: traffic ran`).toBeGreaterThan(0);
      expect(r.audit.emitted, `${r.id}: audit events were emitted`).toBeGreaterThan(0);
      expect(r.gatewayAudit.answered, `${r.id}: the gateway answered requests`).toBeGreaterThan(0);
      expect({
        id: r.id,
        bad: r.bad,
        exits: r.exits,
        findings: r.findings,
        stored: r.audit.stored,
        gatewayStored: r.gatewayAudit.stored,
        gatewayDuplicated: r.gatewayAudit.duplicated,
        recovered: r.recoverMs !== null,
      }).toEqual({
        id: r.id,
        bad: [],
        exits: [],
        findings: [],
        stored: r.audit.emitted,
        gatewayStored: r.gatewayAudit.answered,
        gatewayDuplicated: 0,
        recovered: true,
      });
    }
  });
});
