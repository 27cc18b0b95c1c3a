import { HttpProblem } from '@cloud-stack/service-kit';
import { UUID_PATTERN } from '@cloud-stack/contracts';

/** Position in (occurred_at, event_id) order; `ts` keeps PostgreSQL's microseconds. */
export interface CursorKey {
  readonly ts: string;
  readonly id: string;
}

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.ts, key.id])).toString('base64url');
}

export function decodeCursor(value: string): CursorKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && TS.test(parsed[0]) && UUID_PATTERN.test(parsed[1])) {
      return { ts: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new HttpProblem(400, 'cursor is not one this API issued');
}
