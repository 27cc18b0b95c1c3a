export {
  readConfig,
  exitOnConfigError,
  ConfigError,
  env,
  isProduction,
  requireInProduction,
  shutdownConfigShape,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
} from './config';
export { runCommand } from './cli';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { HttpProblem, sendProblem, statusTitle } from './problem';
export { acceptCorrelationId, correlationId } from './correlation';
export { createApp, errorHandler, healthHandler, readyHandler, metricsHandler, notFound } from './app';
export type { AppOptions, ReadinessCheck } from './app';
export { jsonBody, jsonDepthExceeded, MAX_JSON_DEPTH } from './json-body';
export type { JsonBodyOptions } from './json-body';
export { startServer } from './server';
export type { ServerOptions, RunningServer } from './server';
export { expressBorn } from './express-born';
export type { ExpressPrototypes } from './express-born';
export { startTelemetry } from './telemetry';
export type { Telemetry } from './telemetry';
export { MetricsRegistry } from './metrics';
export type { Counter, Gauge, Histogram } from './metrics';
export { parseTraceparent, traceOf } from './trace';
export { bullConnection, createRedisClient, isRedisClusterUrl, parseRedisUrl, pubSubUrl, requireHashTaggedPrefix } from './redis';
export type { BullConnection, RedisClient, RedisClientOptions, RedisTarget } from './redis';
