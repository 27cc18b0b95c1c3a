import { sql, type Kysely } from '@cloud-stack/db';

/** One thing the writer could not store, kept with the reason instead of being retried forever. */
export interface DeadLetter {
  readonly jobId: string | null;
  readonly batchId: string | null;
  readonly eventId: string | null;
  /** The raw event (or whole job payload), as received. */
  readonly payload: unknown;
  readonly reason: string;
}

function toText(payload: unknown): string {
  try {
    // JSON.stringify escapes control characters (NUL included), so the text column accepts it.
    return JSON.stringify(payload) ?? String(payload);
  } catch {
    return String(payload);
  }
}

export async function insertDeadLetters(db: Kysely<unknown>, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await sql`INSERT INTO audit_dead_letters (job_id, batch_id, event_id, payload, reason)
    SELECT * FROM unnest(${letters.map((l) => l.jobId)}::text[], ${letters.map((l) => l.batchId)}::text[],
      ${letters.map((l) => l.eventId)}::text[], ${letters.map((l) => toText(l.payload))}::text[],
      ${letters.map((l) => l.reason.slice(0, 2000))}::text[])`.execute(db);
}
