import type { RedisClient } from '@cloud-stack/service-kit';
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
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly options: LoginThrottleOptions,
    private readonly logger: Logger,
  ) {}

  private key(username: string): string {
    return `${this.prefix}identity:login-failures:${sha256Hex(username.trim().toLowerCase())}`;
  }

  /** Failed sign-ins for `username` in the current window (0 when the throttle is off or Redis is down). */
  async failures(username: string): Promise<number> {
    if (this.options.maxFailures <= 0) return 0;
    try {
      return Number((await this.redis.get(this.key(username))) ?? 0);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
      return 0;
    }
  }

  /** Whether a username with this many failures is refused. */
  isLocked(failures: number): boolean {
    return this.options.maxFailures > 0 && failures >= this.options.maxFailures;
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

  /** Forgets the failures after a successful sign-in (callers skip it when there were none). */
  async succeeded(username: string): Promise<void> {
    try {
      await this.redis.del(this.key(username));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
    }
  }
}
