/**
 * How the writer treats a failed statement. `data`: the rows themselves are unacceptable
 * (SQLSTATE classes 22 and 23): isolate them and dead-letter the culprits. Everything else
 * (connection lost or refused, 57P01 admin shutdown, 40P01 deadlock, 53xxx resources, pool
 * timeouts, even 42xxx while an operator fixes grants) is `transient`: retried with backoff, the
 * jobs stay active, nothing is lost.
 */
export type FailureKind = 'data' | 'transient';

export function classifyFailure(err: unknown): FailureKind {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return 'data';
  return 'transient';
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message || err.name;
  }
  return String(err);
}
