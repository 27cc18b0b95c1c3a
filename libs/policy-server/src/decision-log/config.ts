import { auditQueueName } from '@cloud-stack/contracts';
import { ConfigError, env, type Logger, type MetricsRegistry } from '@cloud-stack/service-kit';
import type { PolicyServerConfig } from '../config';
import { DecisionLogger } from './decision-logger';
import type { OpaHttpSinkOptions } from './opa-http-sink';
import type { DecisionLogShipping } from './shipping';
import { consoleDecisionLogSink } from './sinks';
import type { DecisionLogSink } from './types';

/** The remote decision-log service (DECISION_LOG_SINK=http), by environment until OPA's configuration file names one. */
export const decisionLogServiceConfigShape = {
  /** Base URL of a service speaking OPA's decision-log protocol; uploads go to `<url><DECISION_LOG_RESOURCE>`. */
  DECISION_LOG_SERVICE_URL: env.url().optional(),
  /** Sent as `Authorization: Bearer <token>` (OPA's `credentials.bearer.token`). */
  DECISION_LOG_SERVICE_TOKEN: env.optionalString(),
  DECISION_LOG_RESOURCE: env.string('/logs').refine((v) => v.startsWith('/'), 'a path starting with /'),
  /** Upload period, a random delay between the two (OPA's `reporting.min_delay_seconds`/`max_delay_seconds`, 300/600 s). */
  DECISION_LOG_MIN_DELAY_MS: env.int(300_000, 1),
  DECISION_LOG_MAX_DELAY_MS: env.int(600_000, 1),
  /** Encoded events held at most (OPA's `reporting.buffer_size_limit_bytes`); beyond, the oldest are dropped and counted. */
  DECISION_LOG_BUFFER_SIZE_LIMIT_BYTES: env.int(16 * 1024 * 1024, 1),
  /** Largest gzipped upload (OPA's `reporting.upload_size_limit_bytes`). */
  DECISION_LOG_UPLOAD_SIZE_LIMIT_BYTES: env.int(32_768, 1),
};

type DecisionLogConfig = Pick<
  PolicyServerConfig,
  | 'DECISION_LOG_SINK'
  | 'REDIS_URL'
  | 'AUDIT_QUEUE_PREFIX'
  | 'DECISION_LOG_MASK'
  | 'DECISION_LOG_BUFFER_SIZE'
  | 'DECISION_LOG_BATCH_SIZE'
  | 'DECISION_LOG_FLUSH_MS'
  | 'DECISION_LOG_SEND_ATTEMPTS'
  | 'DECISION_LOG_CLOSE_TIMEOUT_MS'
  | 'DECISION_LOG_WORKER_NICE'
  | keyof typeof decisionLogServiceConfigShape
>;

/** One line for a sink that cannot work: DECISION_LOG_SINK=http without a service. */
export function checkDecisionLogConfig(config: Pick<DecisionLogConfig, 'DECISION_LOG_SINK' | 'DECISION_LOG_SERVICE_URL'>): void {
  if (config.DECISION_LOG_SINK === 'http' && !config.DECISION_LOG_SERVICE_URL) {
    throw new ConfigError('DECISION_LOG_SERVICE_URL', 'is required with DECISION_LOG_SINK=http');
  }
}

/** The remote service's options from the environment (OPA's configuration maps onto the same type). */
export function opaHttpSinkOptionsFromEnv(config: DecisionLogConfig): Omit<OpaHttpSinkOptions, 'onUploadError'> {
  checkDecisionLogConfig(config);
  return {
    url: config.DECISION_LOG_SERVICE_URL!,
    resource: config.DECISION_LOG_RESOURCE,
    headers: config.DECISION_LOG_SERVICE_TOKEN ? { authorization: `Bearer ${config.DECISION_LOG_SERVICE_TOKEN}` } : {},
    minDelaySeconds: config.DECISION_LOG_MIN_DELAY_MS / 1000,
    maxDelaySeconds: config.DECISION_LOG_MAX_DELAY_MS / 1000,
    bufferSizeLimitBytes: config.DECISION_LOG_BUFFER_SIZE_LIMIT_BYTES,
    uploadSizeLimitBytes: config.DECISION_LOG_UPLOAD_SIZE_LIMIT_BYTES,
    closeTimeoutMs: config.DECISION_LOG_CLOSE_TIMEOUT_MS,
  };
}

function shippingFromConfig(config: DecisionLogConfig, logger: Logger): DecisionLogShipping | undefined {
  switch (config.DECISION_LOG_SINK) {
    case 'bullmq':
      logger.info({ queue: auditQueueName(config.AUDIT_QUEUE_PREFIX) }, 'decision logs go to the audit queue');
      return {
        kind: 'audit-queue',
        options: {
          redisUrl: config.REDIS_URL,
          prefix: config.AUDIT_QUEUE_PREFIX,
          maxBatch: config.DECISION_LOG_BATCH_SIZE,
          lingerMs: config.DECISION_LOG_FLUSH_MS,
          attempts: config.DECISION_LOG_SEND_ATTEMPTS,
          closeTimeoutMs: config.DECISION_LOG_CLOSE_TIMEOUT_MS,
        },
      };
    case 'http': {
      const options = opaHttpSinkOptionsFromEnv(config);
      logger.info({ service: new URL(options.resource ?? '/logs', options.url).origin }, 'decision logs go to a remote log service');
      return { kind: 'opa-http', options };
    }
    default:
      return undefined;
  }
}

/**
 * The decision logger DECISION_LOG_SINK asks for: the audit queue or a remote log service shipped
 * from a worker thread, the console on the request thread, or none. A `sink` given by the caller
 * (tests) takes the place of the configured one.
 */
export function openDecisionLogger(
  config: DecisionLogConfig,
  options: { readonly logger: Logger; readonly metrics?: MetricsRegistry; readonly sink?: DecisionLogSink },
): DecisionLogger | undefined {
  const { logger, metrics } = options;
  const common = { logger, metrics, mask: config.DECISION_LOG_MASK, bufferSize: config.DECISION_LOG_BUFFER_SIZE };
  const sink = options.sink ?? (config.DECISION_LOG_SINK === 'console' ? consoleDecisionLogSink(logger) : undefined);
  if (sink) return new DecisionLogger({ ...common, sink, batchSize: config.DECISION_LOG_BATCH_SIZE, flushIntervalMs: config.DECISION_LOG_FLUSH_MS });
  const shipping = shippingFromConfig(config, logger);
  return shipping ? new DecisionLogger({ ...common, shipping, closeTimeoutMs: config.DECISION_LOG_CLOSE_TIMEOUT_MS, workerNice: config.DECISION_LOG_WORKER_NICE }) : undefined;
}
