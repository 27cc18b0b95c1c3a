import { createDb, ensureDatabase, type Kysely } from '@cloud-stack/db';
import { bullConnection, MetricsRegistry, type Logger, type ReadinessCheck } from '@cloud-stack/service-kit';
import { sql } from 'kysely';
import { createAuditProducer } from '@cloud-stack/audit-producer';
import { auditQueueName } from '@cloud-stack/contracts';
import type { IdentityConfig } from './config';
import type { IdentityDatabase } from './db/schema';
import { migrateIdentity } from './db/migrations';
import { PasswordHasher } from './crypto/password';
import { ClientSecretHasher } from './crypto/client-secret';
import { RedisBus } from './events/redis-bus';
import { KeyStore, KEYS_CHANNEL } from './keys/key-store';
import { KeySealer } from './keys/key-sealer';
import { RevocationStore } from './tokens/revocations';
import { AccessTokens } from './tokens/access-token';
import { RefreshTokens } from './tokens/refresh-tokens';
import { Tenants } from './directory/tenants';
import { Users } from './directory/users';
import { Clients } from './directory/clients';
import { ClientAuthenticator } from './oauth/client-auth';
import { LoginThrottle } from './oauth/login-throttle';
import type { EmitAuditEvent } from './admin/audit-trail';
import type { PurgeResult } from './tokens/purge-schedule';

const CLIENTS_CHANNEL = 'identity:clients';

/** Everything identity's routes need, opened once per process. */
export interface IdentityContext {
  readonly config: IdentityConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly db: Kysely<IdentityDatabase>;
  readonly bus: RedisBus;
  readonly hasher: PasswordHasher;
  readonly keys: KeyStore;
  readonly revocations: RevocationStore;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly tenants: Tenants;
  readonly users: Users;
  readonly clients: Clients;
  readonly clientAuth: ClientAuthenticator;
  readonly loginThrottle: LoginThrottle;
  readonly checks: ReadinessCheck[];
  /** Hands an audit event to the shared producer (a no-op when AUDIT_EVENTS=none). */
  readonly emitAudit: EmitAuditEvent;
  /** Creates a new signing key, retires the old one and tells the other instances. */
  rotateKey(): Promise<string>;
  /** Deletes expired refresh tokens and revocation rows (run by the `identity-token-purge` job scheduler). */
  purgeExpired(): Promise<PurgeResult>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  /** Create the database when missing and migrate it (default true). */
  readonly migrate?: boolean;
}

export function scryptParams(config: IdentityConfig) {
  return { logN: config.SCRYPT_LOG_N, r: config.SCRYPT_R, p: config.SCRYPT_P };
}

/** Connects to PostgreSQL and Redis, migrates, loads the signing keys and revocations. */
export async function openIdentity(config: IdentityConfig, options: OpenOptions): Promise<IdentityContext> {
  const { logger } = options;
  if (options.migrate ?? true) await ensureDatabase(config.DATABASE_URL);
  const db = createDb<IdentityDatabase>(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: 'identity' });
  const bus = new RedisBus(config.REDIS_URL, config.REDIS_PREFIX, logger);
  try {
    if (options.migrate ?? true) {
      const applied = await migrateIdentity(db);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
    await bus.connect();
  } catch (err) {
    await bus.close();
    await db.destroy();
    throw err;
  }

  const hasher = new PasswordHasher(scryptParams(config));
  if (config.SIGNING_KEY_SECRETS.length === 0) logger.warn('SIGNING_KEY_SECRETS is not set: private signing keys are stored unencrypted');
  const keys = new KeyStore(db, {
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    retireGraceSeconds: config.KEY_RETIRE_GRACE_SECONDS,
    sealer: new KeySealer(config.SIGNING_KEY_SECRETS),
  });
  try {
    await keys.init();
  } catch (err) {
    await bus.close();
    await db.destroy();
    throw err;
  }
  const revocations = new RevocationStore(db, bus, logger, config.ACCESS_TOKEN_TTL_SECONDS);
  await revocations.start();
  const accessTokens = new AccessTokens(keys, revocations, { issuer: config.ISSUER, audience: config.AUDIENCE, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, verifiedCacheSize: config.VERIFIED_TOKEN_CACHE_SIZE });
  const refreshTokens = new RefreshTokens(db, revocations, config.REFRESH_TOKEN_TTL_SECONDS);
  const clientSecrets = new ClientSecretHasher(hasher);
  const clients = new Clients(db, clientSecrets);
  const clientAuth = new ClientAuthenticator(clients, clientSecrets, {
    ttlMs: config.CLIENT_AUTH_CACHE_TTL_SECONDS * 1000,
    onError: (err) => logger.warn({ err: (err as Error).message }, 'client authentication cache: background work failed'),
  });
  clients.onChange = (clientId) => {
    clientAuth.invalidate(clientId);
    void bus.publish(CLIENTS_CHANNEL, { client_id: clientId });
  };
  await bus.subscribe(CLIENTS_CHANNEL, (raw) => clientAuth.invalidate(String((JSON.parse(raw) as { client_id?: unknown }).client_id)));
  await bus.subscribe(KEYS_CHANNEL, () => void keys.reload());
  bus.onResubscribed(() => void keys.reload());

  // Catch what a missed Redis message would have told us; drop what has expired.
  const timer = setInterval(() => {
    void revocations.sync();
    void keys.reload().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'key reload failed'));
  }, config.SYNC_INTERVAL_SECONDS * 1000);
  timer.unref();

  const metrics = options.metrics ?? new MetricsRegistry();
  // One shared Cluster when REDIS_URL is redis+cluster:// (closed after the producer).
  const auditRedis = config.AUDIT_EVENTS === 'bullmq' ? bullConnection(config.REDIS_URL) : undefined;
  const audit =
    auditRedis
      ? createAuditProducer({ connection: auditRedis.connection, prefix: config.AUDIT_QUEUE_PREFIX, logger, metrics })
      : undefined;
  if (audit) logger.info({ queue: auditQueueName(config.AUDIT_QUEUE_PREFIX) }, 'admin actions go to the audit queue');

  let closed = false;
  return {
    config,
    logger,
    metrics,
    db,
    bus,
    hasher,
    keys,
    revocations,
    accessTokens,
    refreshTokens,
    tenants: new Tenants(db),
    users: new Users(db, hasher),
    clients,
    clientAuth,
    loginThrottle: new LoginThrottle(
      bus.publisher,
      config.REDIS_PREFIX,
      { maxFailures: config.LOGIN_MAX_FAILURES, windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS },
      logger,
    ),
    checks: [
      { name: 'postgres', check: async () => void (await sql`SELECT 1`.execute(db)) },
      { name: 'redis', check: () => bus.ping() },
    ],
    emitAudit: audit ? (event) => audit.emit(event) : () => false,
    async purgeExpired() {
      const revoked = await revocations.purgeExpired();
      return { refresh_tokens: await refreshTokens.purgeExpired(), ...revoked };
    },
    async rotateKey() {
      const kid = await keys.rotate();
      await bus.publish(KEYS_CHANNEL, { kid });
      logger.info({ kid }, 'signing key rotated');
      return kid;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await audit?.close();
      await auditRedis?.close();
      await bus.close();
      await db.destroy();
    },
  };
}
