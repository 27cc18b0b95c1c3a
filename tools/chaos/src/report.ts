import type { FaultResult } from './suite';

/** The suite's table: one row per fault. */
export function renderTable(results: readonly FaultResult[]): string {
  const head = ['fault', 'recovered in', 'ok', 'degraded', '503/502/504', 'down', 'bad', 'audit stored/emitted', 'audit caught up in', 'gateway audit stored/answered', 'dup', 'own exits', 'result'];
  const seconds = (ms: number | null, none: string) => (ms === null ? none : `${(ms / 1000).toFixed(1)} s`);
  const rows = results.map((r) => [
    r.title,
    seconds(r.recoverMs, 'not recovered'),
    String(r.requests.ok),
    String(r.requests.degraded),
    String(r.requests.problem),
    String(r.requests.down),
    String(r.requests.bad),
    `${r.audit.stored}/${r.audit.emitted}`,
    seconds(r.audit.caughtUpMs, 'never'),
    `${r.gatewayAudit.stored}/${r.gatewayAudit.answered}`,
    String(r.gatewayAudit.duplicated),
    String(r.exits.length),
    r.passed ? 'pass' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  for (const r of results) {
    for (const b of r.bad) out.push(`  ${r.id}: bad request: ${b}`);
    for (const e of r.exits) out.push(`  ${r.id}: ${e}`);
    for (const f of r.findings) out.push(`  ${r.id}: ${f}`);
    for (const l of r.gatewayAudit.lostDetail) out.push(`  ${r.id}: ${l}`);
  }
  return out.join('\n');
}
