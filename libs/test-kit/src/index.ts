export { adminDatabaseUrl, testRedisUrl, useTestDatabase, useRedisPrefix } from './fixtures';
export { freePort, postgresAnswers, redisAnswers, startEmbeddedPostgres, startRedisServer } from './services';
export type { ControlledService, RedisServerOptions, StartedService } from './services';
export { holdLock, terminateBackends } from './faults';
export type { BackendFilter, HeldLock } from './faults';
export { REPO_ROOT, runProcess, startProcess, waitForReady } from './processes';
export type { ServiceProcess } from './processes';
export { useIdentityProcess } from './identity-process';
export type { IdentityProcess } from './identity-process';
