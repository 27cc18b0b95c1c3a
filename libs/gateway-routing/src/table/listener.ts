import pg from 'pg';
import type { Logger } from '@cloud-stack/service-kit';

export interface ListenerOptions {
  readonly databaseUrl: string;
  readonly channel: string;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly onNotify: (payload: string | undefined) => void;
  /** After every (re)connection: notifications sent while disconnected are lost, so the caller re-reads. */
  readonly onConnect: () => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface Listener {
  /** Settles after the first connection attempt (failed attempts keep retrying in the background). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** LISTEN on a dedicated connection (a pooled one would be handed back and lose it), reconnecting with backoff. */
export function listen(options: ListenerOptions): Listener {
  const minBackoff = options.minBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  let client: pg.Client | null = null;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  function retryLater(): void {
    if (closed || timer) return;
    const delay = Math.min(maxBackoff, minBackoff * 2 ** failures) * (0.5 + Math.random() / 2);
    failures++;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true, application_name: 'gateway-route-table' });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (client === c) client = null;
      c.end().catch(() => undefined);
      if (!closed) {
        options.logger.warn({ err: err?.message }, 'route table: notification connection lost, reconnecting');
        retryLater();
      }
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', (msg) => {
      if (msg.channel === options.channel) options.onNotify(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${options.channel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (closed || lost) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    if (failures > 0) options.logger.info({ attempts: failures }, 'route table: notification connection restored');
    failures = 0;
    options.onConnect();
  }

  return {
    ready: connect(),
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
