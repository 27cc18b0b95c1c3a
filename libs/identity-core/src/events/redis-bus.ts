import { Redis } from 'ioredis';
import { createRedisClient, pubSubUrl, type Logger, type RedisClient } from '@cloud-stack/service-kit';

type Handler = (message: string) => void;

/**
 * Redis pub/sub for identity: one connection publishes, one subscribes. Every channel name is
 * prefixed. `onResubscribed` handlers run after a reconnect, when messages may have been missed.
 * On a Redis Cluster (`redis+cluster://`) the publisher, which also serves identity's own keys, is a
 * Cluster client; the subscriber stays on one node, which hears what is published on any.
 */
export class RedisBus {
  readonly publisher: RedisClient;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Handler[]>();
  private readonly resubscribed: Array<() => void> = [];
  private connectedOnce = false;

  constructor(
    url: string,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.publisher = createRedisClient(url, options);
    this.subscriber = new Redis(pubSubUrl(url), options);
    for (const c of [this.publisher, this.subscriber]) c.on('error', (err) => this.logger.warn({ err: err.message }, 'redis error'));
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch (err) {
          this.logger.warn({ err, channel }, 'bad message on channel');
        }
      }
    });
    this.subscriber.on('ready', () => {
      if (this.connectedOnce) for (const h of this.resubscribed) h();
      this.connectedOnce = true;
    });
  }

  channel(name: string): string {
    return `${this.prefix}${name}`;
  }

  async connect(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
  }

  async subscribe(name: string, handler: Handler): Promise<void> {
    await this.subscribeChannel(this.channel(name), handler);
  }

  /** Like `subscribe`, for a channel whose full name (prefix included) a contract defines. */
  async subscribeChannel(channel: string, handler: Handler): Promise<void> {
    const list = this.handlers.get(channel) ?? [];
    list.push(handler);
    this.handlers.set(channel, list);
    await this.subscriber.subscribe(channel);
  }

  onResubscribed(handler: () => void): void {
    this.resubscribed.push(handler);
  }

  /** Publishes; a Redis outage is logged, not thrown (the database stays the source of truth). */
  async publish(name: string, message: unknown): Promise<void> {
    await this.publishChannel(this.channel(name), message);
  }

  /** Like `publish`, for a channel whose full name (prefix included) a contract defines. */
  async publishChannel(channel: string, message: unknown): Promise<void> {
    try {
      await this.publisher.publish(channel, JSON.stringify(message));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, channel }, 'publish failed');
    }
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
