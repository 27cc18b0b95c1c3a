import { hostname } from 'node:os';
import { env, readConfig } from '@cloud-stack/service-kit';

export const policyServerConfigShape = {
  PORT: env.port(8181),
  HOST: env.string('0.0.0.0'),
  /** Directory of *.rego and data.json/data.yaml files, loaded at start and watched. */
  POLICY_DIR: env.string('infra/policies'),
  POLICY_WATCH: env.bool(true),
  POLICY_RELOAD_DEBOUNCE_MS: env.int(150),
  /** Largest accepted request body (input documents, policies). */
  BODY_LIMIT: env.string('1mb').refine((v) => /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i.test(v), 'a size like 512kb or 1mb'),
  /** Evaluation time limit; longer evaluations answer 500 with an eval_cancel_error. */
  EVAL_TIMEOUT_MS: env.int(1000, 1),
  /** Evaluation step budget (0 = none): the engine stops a runaway evaluation with eval_cancel_error. */
  EVAL_MAX_STEPS: env.int(10_000_000),
  /** `bullmq` (audit queue), `console` (one log line per decision) or `none`. */
  DECISION_LOG_SINK: env.oneOf(['bullmq', 'console', 'none'] as const, 'bullmq'),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  /** BullMQ key prefix of the audit queue (BullMQ's default is `bull`). */
  AUDIT_QUEUE_PREFIX: env.string('bull'),
  /** Comma-separated JSON pointers erased from decision logs, e.g. /input/password,/input/token. */
  DECISION_LOG_MASK: env.list([]),
  DECISION_LOG_BUFFER_SIZE: env.int(10_000, 1),
  DECISION_LOG_BATCH_SIZE: env.int(500, 1),
  DECISION_LOG_FLUSH_MS: env.int(1000, 1),
  /** Enqueue attempts per batch before it is dropped and counted (Redis down never blocks decisions). */
  DECISION_LOG_SEND_ATTEMPTS: env.int(8, 1),
  /** Shutdown waits at most this long for the audit queue to take the last decision logs. */
  DECISION_LOG_CLOSE_TIMEOUT_MS: env.int(5000, 1),
  /** This instance's id in decision-log labels (OPA's `labels.id`). */
  INSTANCE_ID: env.string(hostname()),
};

export type PolicyServerConfig = ReturnType<typeof readPolicyServerConfig>;

export function readPolicyServerConfig(source: Record<string, string | undefined> = process.env) {
  return readConfig(policyServerConfigShape, source);
}
