import type { Redis } from 'ioredis';
import type { Logger } from '@cloud-stack/service-kit';
import { sha256Hex } from '../crypto/hash';

export interface LoginThrottleOptions {
  /** Failed sign-ins that lock a username; 0 turns the throttle off. */
  readonly maxFailures: number;
  /** The window counted from the first failure; a locked username stays locked until it ends. */
  readonly windowSeconds: number;
}

/**
 * Temporary lockout against password guessing, as Keycloak's brute-force detection: after
 * `maxFailures` failed sign-ins for a username within the window, that username is refused until
 * the window ends. Counted in Redis, so every instance sees the same count; keyed by a hash of
 * the normalised username whether or not such a user exists, so the lockout reveals nothing about
 * which accounts exist. If Redis is unreachable the throttle lets sign-ins through (and logs):
 * availability of logins wins over the throttle, as Kong's fault-tolerant rate limiting does.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: LoginThrottleOptions,
    private readonly logger: Logger,
  ) {}

  private key(username: string): string {
    return `${this.prefix}identity:login-failures:${sha256Hex(username.trim().toLowerCase())}`;
  }

  /** Whether sign-ins for `username` are refused right now. */
  async locked(username: string): Promise<boolean> {
    if (this.options.maxFailures <= 0) return false;
    try {
      return Number((await this.redis.get(this.key(username))) ?? 0) >= this.options.maxFailures;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
      return false;
    }
  }

  async failed(username: string): Promise<void> {
    if (this.options.maxFailures <= 0) return;
    const key = this.key(username);
    try {
      const [[, count]] = (await this.redis.multi().incr(key).expire(key, this.options.windowSeconds, 'NX').exec()) as [[Error | null, number]];
      if (count === this.options.maxFailures) this.logger.warn({ username_sha256: key.slice(key.lastIndexOf(':') + 1) }, 'username locked after repeated failed sign-ins');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
    }
  }

  async succeeded(username: string): Promise<void> {
    if (this.options.maxFailures <= 0) return;
    try {
      await this.redis.del(this.key(username));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
    }
  }
}
