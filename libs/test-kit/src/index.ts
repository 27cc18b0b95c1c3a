export { adminDatabaseUrl, testRedisUrl, useTestDatabase, useRedisPrefix } from './fixtures';
export { freePort, postgresAnswers, redisAnswers, startEmbeddedPostgres, startRedisServer } from './services';
export type { StartedService } from './services';
