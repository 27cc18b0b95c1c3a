import type pg from 'pg';
import type { AuditEvent } from '@cloud-stack/contracts';

/** Column order of the COPY ceiling (the same columns the writer's statement fills). */
export const COPY_COLUMNS = [
  'event_id', 'category', 'occurred_at', 'correlation_id', 'causation_id', 'trace_id', 'tenant_id', 'user_id', 'client_id', 'agent_id',
  'route_id', 'method', 'host', 'path', 'status', 'duration_ms', 'decision', 'sandbox_routed', 'trial_mode', 'upstream', 'ip', 'user_agent', 'error_code',
] as const;

function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** COPY text format for `events`. */
export function copyText(events: readonly AuditEvent[]): Buffer {
  let out = '';
  for (const e of events) out += COPY_COLUMNS.map((c) => field(e[c])).join('\t') + '\n';
  return Buffer.from(out);
}

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * COPY … FROM STDIN over pg's own protocol handling (a Submittable; no pg-copy-streams): the
 * bare bulk-load ceiling of the benchmark.
 */
class CopyIn {
  private error: Error | undefined;
  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly done: (err?: Error) => void,
  ) {}
  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: CopyConnection): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    this.done(this.error);
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

export function copyEvents(client: pg.Client, table: string, events: readonly AuditEvent[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const text = `COPY ${table} (${COPY_COLUMNS.join(', ')}) FROM STDIN`;
    client.query(new CopyIn(text, copyText(events), (err) => (err ? reject(err) : resolve())) as unknown as pg.Submittable);
  });
}
