import { hostname } from 'node:os';
import { AUDIT_QUEUE_PREFIX_DEFAULT, AUDIT_QUEUE_PREFIX_VARIABLE } from '@cloud-stack/contracts';
import { ConfigError, env, isProduction, readConfig, requireHashTaggedPrefix, requireInProduction, shutdownConfigShape } from '@cloud-stack/service-kit';
import { EMPTY_OPA_CONFIG, readOpaConfigFile, readOpaConfigText, type OpaConfig } from './config/opa-config';
import { checkDecisionLogConfig, decisionLogServiceConfigShape } from './decision-log/config';
import { DEFAULT_WORKER_NICE } from './decision-log/shipping';

export const policyServerConfigShape = {
  PORT: env.port(8181),
  /** Loopback by default, as OPA since 1.0: the API can replace policies, so reaching it must be a choice. */
  HOST: env.string('127.0.0.1'),
  /** `development` unless set; in `production` policy writes need POLICY_AUTHORIZATION=basic. */
  NODE_ENV: env.string('development'),
  /** `token`: a `Authorization: Bearer <token>` header becomes `input.identity` of system.authz (OPA's --authentication=token). */
  POLICY_AUTHENTICATION: env.oneOf(['off', 'token'] as const, 'off'),
  /** `basic`: `data.system.authz.allow` decides every API call (OPA's --authorization=basic). */
  POLICY_AUTHORIZATION: env.oneOf(['off', 'basic'] as const, 'off'),
  /** The built-in system.authz policy: the token clients (the gateway) present to query /v1/data. */
  POLICY_TOKEN: env.optionalString(),
  /** The built-in system.authz policy: the token that may use the whole API, policy writes included. */
  POLICY_ADMIN_TOKEN: env.optionalString(),
  /** Directory of *.rego and data.json/data.yaml files, loaded at start and watched. */
  POLICY_DIR: env.string('infra/policies'),
  POLICY_WATCH: env.bool(true),
  POLICY_RELOAD_DEBOUNCE_MS: env.int(150),
  /**
   * Parse policies (files, PUT /v1/policies, ad-hoc queries) as Rego v0, OPA's `--v0-compatible`;
   * also set by the sidecar's `--v0-compatible` flag. A module importing `rego.v1` stays v1.
   */
  POLICY_V0_COMPATIBLE: env.bool(false),
  /**
   * OPA's configuration file (YAML, `opa run -c`): services, bundles, keys, decision_logs, status,
   * default_decision, labels. Also set by the `--config-file`/`-c` flag. With bundles configured,
   * POLICY_DIR is not loaded.
   */
  POLICY_CONFIG_FILE: env.optionalString(),
  /** The same configuration inline (YAML or JSON text), for deployments without files (Cloud Run env); not with POLICY_CONFIG_FILE. */
  POLICY_CONFIG: env.optionalString(),
  /** Comma-separated local bundles (.tar.gz files or bundle directories), loaded instead of POLICY_DIR (`opa run --bundle`). */
  POLICY_BUNDLES: env.list([]),
  /** Largest accepted request body (input documents, policies). */
  BODY_LIMIT: env.string('1mb').refine((v) => /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i.test(v), 'a size like 512kb or 1mb'),
  /** Evaluation time limit; longer evaluations answer 500 with an eval_cancel_error. */
  EVAL_TIMEOUT_MS: env.int(1000, 1),
  /** Evaluation step budget (0 = none): the engine stops a runaway evaluation with eval_cancel_error. */
  EVAL_MAX_STEPS: env.int(10_000_000),
  /** `bullmq` (audit queue), `http` (a log service in OPA's protocol), `console` (one log line per decision) or `none`. */
  DECISION_LOG_SINK: env.oneOf(['bullmq', 'http', 'console', 'none'] as const, 'bullmq'),
  REDIS_URL: env.url('redis://127.0.0.1:6379'),
  /** BullMQ key prefix of the audit queue; the contract's one name, shared by every producer and the writer. */
  [AUDIT_QUEUE_PREFIX_VARIABLE]: env.string(AUDIT_QUEUE_PREFIX_DEFAULT),
  /** Comma-separated JSON pointers erased from decision logs, e.g. /input/password,/input/token. */
  DECISION_LOG_MASK: env.list([]),
  DECISION_LOG_BUFFER_SIZE: env.int(10_000, 1),
  DECISION_LOG_BATCH_SIZE: env.int(500, 1),
  DECISION_LOG_FLUSH_MS: env.int(1000, 1),
  /** Enqueue attempts per batch before it is dropped and counted (Redis down never blocks decisions). */
  DECISION_LOG_SEND_ATTEMPTS: env.int(8, 1),
  /** Shutdown waits at most this long for the audit queue to take the last decision logs (within SHUTDOWN_TIMEOUT_MS). */
  DECISION_LOG_CLOSE_TIMEOUT_MS: env.int(3000, 1),
  /**
   * Nice value of the decision-log worker thread (Linux), 0-19: the higher, the less a decision
   * waits behind it, and the less CPU it gets when the CPUs are busy (see DEFAULT_WORKER_NICE).
   */
  DECISION_LOG_WORKER_NICE: env.int(DEFAULT_WORKER_NICE).refine((n) => n <= 19, 'at most 19'),
  ...decisionLogServiceConfigShape,
  /** This instance's id in decision-log labels (OPA's `labels.id`). */
  INSTANCE_ID: env.string(hostname()),
  ...shutdownConfigShape,
};

export type PolicyServerConfig = ReturnType<typeof readPolicyServerConfig>;

/**
 * The sidecar's command line as the variables it stands for: `--v0-compatible` (OPA's flag of
 * that name) is POLICY_V0_COMPATIBLE=true, `--config-file FILE`/`-c FILE` (OPA's) is
 * POLICY_CONFIG_FILE. Anything else is a ConfigError: the rest of the configuration is
 * environment variables and the OPA configuration file.
 */
export function policyServerEnv(argv: readonly string[], source: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const out = { ...source };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--v0-compatible') out['POLICY_V0_COMPATIBLE'] = 'true';
    else if (arg.startsWith('--config-file=')) out['POLICY_CONFIG_FILE'] = arg.slice('--config-file='.length);
    else if (arg === '--config-file' || arg === '-c') {
      const file = argv[++i];
      if (!file) throw new ConfigError(arg, 'needs a file (the OPA configuration file)');
      out['POLICY_CONFIG_FILE'] = file;
    } else throw new ConfigError(arg, 'unknown flag (the flags are --v0-compatible and --config-file/-c FILE; the rest is environment variables)');
  }
  return out;
}

/** Reads the sidecar's configuration; a bad or (in production) missing value throws a ConfigError naming the variable. */
export function readPolicyServerConfig(source: Record<string, string | undefined> = process.env) {
  const config = readConfig(policyServerConfigShape, source);
  checkDecisionLogConfig(config);
  if (config.DECISION_LOG_SINK === 'bullmq') requireHashTaggedPrefix(config.REDIS_URL, AUDIT_QUEUE_PREFIX_VARIABLE, config[AUDIT_QUEUE_PREFIX_VARIABLE]);
  if (config.POLICY_CONFIG_FILE && config.POLICY_CONFIG) throw new ConfigError('POLICY_CONFIG', 'set either POLICY_CONFIG or POLICY_CONFIG_FILE (--config-file), not both');
  const opa: OpaConfig = config.POLICY_CONFIG_FILE
    ? readOpaConfigFile(config.POLICY_CONFIG_FILE, source)
    : config.POLICY_CONFIG
      ? readOpaConfigText(config.POLICY_CONFIG, 'POLICY_CONFIG', 'POLICY_CONFIG', source)
      : EMPTY_OPA_CONFIG;
  requireInProduction(source, [
    // The default is an unauthenticated local Redis; a deployment names its own (password included).
    ...(config.DECISION_LOG_SINK === 'bullmq' ? ['REDIS_URL'] : []),
    // With token authentication the built-in policy admits only holders of this token.
    ...(config.POLICY_AUTHENTICATION === 'token' ? ['POLICY_TOKEN'] : []),
  ]);
  return { ...config, opa };
}

/**
 * Whether PUT/DELETE /v1/policies may change the serving policies: always under
 * POLICY_AUTHORIZATION=basic (system.authz decides who), otherwise only outside production.
 */
export function policyWritesAllowed(config: Pick<PolicyServerConfig, 'NODE_ENV' | 'POLICY_AUTHORIZATION'>): boolean {
  return config.POLICY_AUTHORIZATION === 'basic' || !isProduction({ NODE_ENV: config.NODE_ENV });
}
