/** Columns of the CSV export, in order; `decision` is spread over four columns, `details` is JSON text. */
export const CSV_COLUMNS = [
  'event_id', 'category', 'occurred_at', 'ingested_at', 'correlation_id', 'causation_id', 'trace_id', 'tenant_id',
  'user_id', 'client_id', 'agent_id', 'route_id', 'method', 'host', 'path', 'status', 'duration_ms',
  'decision_allow', 'decision_reasons', 'decision_policy', 'decision_id', 'sandbox_routed', 'trial_mode',
  'upstream', 'ip', 'user_agent', 'error_code', 'details',
] as const;

/**
 * One RFC 4180 field. Strings that a spreadsheet would run as a formula (=, +, -, @, tab, CR
 * first) get a leading apostrophe (OWASP CSV injection); the JSONL export is the exact record.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

interface Decision {
  allow?: boolean;
  reasons?: string[];
  policy?: string | null;
  decision_id?: string | null;
}

export function csvRow(event: Record<string, unknown>): string {
  const decision = (event.decision ?? null) as Decision | null;
  const flat: Record<string, unknown> = {
    ...event,
    decision_allow: decision?.allow,
    decision_reasons: decision ? decision.reasons ?? [] : undefined,
    decision_policy: decision?.policy,
    decision_id: decision?.decision_id,
  };
  return `${CSV_COLUMNS.map((c) => csvField(flat[c])).join(',')}\r\n`;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}
