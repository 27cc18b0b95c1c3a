/** The part of an ioredis client this check needs. */
export interface RedisInfoClient {
  info(section: string): Promise<string>;
}

export interface PersistenceWarning {
  /** `none`: Redis keeps no AOF; `unknown`: it would not say. */
  readonly persistence: 'none' | 'unknown';
  readonly warning: string;
}

/**
 * Why queued audit events would not survive a Redis restart, or undefined when Redis keeps an
 * append-only file. Events wait in Redis between the producers and the writer; without AOF a
 * restart loses them (RDB snapshots alone lose everything since the last one). Read from
 * `INFO persistence`, which managed Redis services answer even where CONFIG is disabled.
 */
export async function redisPersistenceWarning(client: RedisInfoClient): Promise<PersistenceWarning | undefined> {
  let info: string;
  try {
    info = await client.info('persistence');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // An ACL that refuses INFO: say so rather than fail readiness; any other error is Redis being down.
    if (/NOPERM|unknown command/i.test(message)) return { persistence: 'unknown', warning: `cannot tell whether Redis persists queued audit events (INFO refused: ${message})` };
    throw err;
  }
  if (/^aof_enabled:1\s*$/m.test(info)) return undefined;
  return {
    persistence: 'none',
    warning:
      'Redis has no append-only file (appendonly no): audit events queued in Redis are lost if it restarts; ' +
      'enable AOF (appendonly yes, appendfsync everysec) or use a managed Redis with persistence (docs/operations.md)',
  };
}
