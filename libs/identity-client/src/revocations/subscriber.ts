import { Redis } from 'ioredis';
import { revocationChannel, RevocationMessageSchema, type RevocationMessage } from '@cloud-stack/contracts';
import type { Logger } from '@cloud-stack/service-kit';

export interface RevocationSubscriberOptions {
  readonly redisUrl: string;
  /** Identity's REDIS_PREFIX (default ''). */
  readonly prefix?: string;
  readonly logger?: Logger;
  /** A revocation heard on the channel. */
  onRevocation(message: RevocationMessage): void;
  /**
   * The subscription (re)became live. Whatever was published while it was not is lost, so the
   * listener must forget everything it learned before.
   */
  onSubscribed(): void;
}

/**
 * Listens to identity's revocation channel on its own Redis connection. ioredis' automatic
 * resubscription is off: it resubscribes only after announcing `ready`, and a revocation published
 * in between would be missed after the cache was cleared. Here the cache is cleared once SUBSCRIBE
 * is confirmed, so every revocation is either heard or older than the clear.
 */
export class RevocationSubscriber {
  readonly channel: string;
  private readonly redis: Redis;
  private live = false;
  private closed = false;
  private downSince: Date | undefined = new Date();
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(private readonly options: RevocationSubscriberOptions) {
    this.channel = revocationChannel(options.prefix ?? '');
    this.redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      autoResubscribe: false,
      // Named so operators (and tests) can find the connection in CLIENT LIST.
      connectionName: `identity-revocations:${this.channel}`.replace(/\s/g, '_'),
      maxRetriesPerRequest: null,
    });
    this.redis.on('error', (err: Error) => options.logger?.warn({ err: err.message }, 'revocation subscriber: redis error'));
    this.redis.on('ready', () => void this.subscribe());
    this.redis.on('close', () => {
      if (this.live) options.logger?.warn({ channel: this.channel }, 'revocation subscriber disconnected; answers are bounded by their TTLs until it is back');
      this.live = false;
      this.downSince ??= new Date();
    });
    this.redis.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) this.receive(raw);
    });
  }

  start(): void {
    // A failed first connection is retried by ioredis like any later one; `ready()` waits for it.
    this.redis.connect().catch((err: Error) => this.options.logger?.warn({ err: err.message }, 'revocation subscriber: first connection failed, retrying'));
  }

  get isLive(): boolean {
    return this.live;
  }

  /** When the subscription was last lost (or never made); undefined while live. */
  get notLiveSince(): Date | undefined {
    return this.downSince;
  }

  /** Resolves when the subscription is live: at once if it is, else when it becomes so. */
  ready(): Promise<void> {
    if (this.live) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the revocation subscriber is closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the revocation subscriber is closed'));
    // QUIT waits for a connection; while there is none, just stop reconnecting.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.redis.subscribe(this.channel);
    } catch (err) {
      // The connection dropped again before SUBSCRIBE was confirmed; the next `ready` retries.
      this.options.logger?.warn({ err: (err as Error).message }, 'revocation subscriber: subscribe failed');
      return;
    }
    if (this.closed) return;
    this.options.onSubscribed();
    this.live = true;
    this.downSince = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private receive(raw: string): void {
    let parsed;
    try {
      parsed = RevocationMessageSchema.safeParse(JSON.parse(raw));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.options.logger?.warn({ channel: this.channel }, 'revocation subscriber: message is not a RevocationMessage, ignored');
      return;
    }
    this.options.onRevocation(parsed.data);
  }
}
