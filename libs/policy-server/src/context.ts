import { basename, resolve } from 'node:path';
import { auditQueueName } from '@cloud-stack/contracts';
import type { Logger, MetricsRegistry, ReadinessCheck } from '@cloud-stack/service-kit';
import { createAuthorizer, type Authorizer } from './authz/authorize';
import { builtinAuthzModule } from './authz/builtin-policy';
import { policyWritesAllowed, type PolicyServerConfig } from './config';
import { DecisionLogger } from './decision-log/decision-logger';
import { auditQueueDecisionLogSink, consoleDecisionLogSink } from './decision-log/sinks';
import type { DecisionLogSink } from './decision-log/types';
import { PolicyStore } from './store/policy-store';
import { watchDirectory, type DirectoryWatcher } from './store/watch';

/** What the HTTP handlers share. */
export interface PolicyServerContext {
  readonly config: PolicyServerConfig;
  readonly logger: Logger;
  readonly store: PolicyStore;
  /** Absent when decision logging is off. */
  readonly decisions?: DecisionLogger;
  readonly labels: Readonly<Record<string, string>>;
  /** Name under which the policy directory's revision appears in decision logs (`bundles`). */
  readonly bundleName: string;
  /** system.authz over every API call; absent when POLICY_AUTHORIZATION=off. */
  readonly authorize?: Authorizer;
  /** Whether PUT/DELETE /v1/policies may change the serving policies (see policyWritesAllowed). */
  readonly policyWrites: boolean;
}

export interface PolicyServer extends PolicyServerContext {
  readonly checks: readonly ReadinessCheck[];
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  /** Overrides the sink chosen by DECISION_LOG_SINK. */
  readonly sink?: DecisionLogSink;
}

export const SIDECAR_VERSION = '0.1.0';

function chooseSink(config: PolicyServerConfig, logger: Logger, metrics: MetricsRegistry | undefined): DecisionLogSink | undefined {
  switch (config.DECISION_LOG_SINK) {
    case 'bullmq':
      logger.info({ queue: auditQueueName(config.AUDIT_QUEUE_PREFIX) }, 'decision logs go to the audit queue');
      return auditQueueDecisionLogSink({
        redisUrl: config.REDIS_URL,
        prefix: config.AUDIT_QUEUE_PREFIX,
        attempts: config.DECISION_LOG_SEND_ATTEMPTS,
        closeTimeoutMs: config.DECISION_LOG_CLOSE_TIMEOUT_MS,
        logger,
        metrics,
      });
    case 'console':
      return consoleDecisionLogSink(logger);
    case 'none':
      return undefined;
  }
}

/** Loads the policy directory, starts watching it and opens the decision-log sink. */
export async function openPolicyServer(config: PolicyServerConfig, options: OpenOptions): Promise<PolicyServer> {
  const { logger, metrics } = options;
  const dir = resolve(config.POLICY_DIR);
  const basic = config.POLICY_AUTHORIZATION === 'basic';
  const builtins = basic ? [builtinAuthzModule({ client: config.POLICY_TOKEN, admin: config.POLICY_ADMIN_TOKEN })] : [];
  const store = new PolicyStore(logger, dir, builtins, config.POLICY_V0_COMPATIBLE ? 'v0' : 'v1');
  if (config.POLICY_V0_COMPATIBLE) logger.info('policies are parsed as Rego v0 (--v0-compatible)');
  await store.reload();
  const policyWrites = policyWritesAllowed(config);
  logger.info(
    { authentication: config.POLICY_AUTHENTICATION, authorization: config.POLICY_AUTHORIZATION, policy_writes: policyWrites },
    'policy API access',
  );
  if (config.POLICY_AUTHENTICATION === 'token' && !basic) {
    logger.warn('POLICY_AUTHENTICATION=token has no effect without POLICY_AUTHORIZATION=basic: tokens are read but nothing checks them');
  }

  const revisionGauge = metrics?.gauge('policy_revision', 'Revision of the serving policy set');
  const reloadCounter = metrics?.counter('policy_reloads_total', 'Policy directory loads by outcome');
  const reload = async (): Promise<void> => {
    const report = await store.reload();
    reloadCounter?.inc({ outcome: report.ok ? 'ok' : 'error' });
    revisionGauge?.set(store.current().revision);
  };
  revisionGauge?.set(store.current().revision);
  const watcher: DirectoryWatcher | undefined = config.POLICY_WATCH ? watchDirectory(dir, config.POLICY_RELOAD_DEBOUNCE_MS, reload, logger) : undefined;

  const sink = options.sink ?? chooseSink(config, logger, metrics);
  const decisions = sink
    ? new DecisionLogger({
        sink,
        logger,
        metrics,
        mask: config.DECISION_LOG_MASK,
        bufferSize: config.DECISION_LOG_BUFFER_SIZE,
        batchSize: config.DECISION_LOG_BATCH_SIZE,
        flushIntervalMs: config.DECISION_LOG_FLUSH_MS,
      })
    : undefined;

  return {
    config,
    logger,
    store,
    decisions,
    labels: { id: config.INSTANCE_ID, app: 'policy-sidecar', version: SIDECAR_VERSION },
    bundleName: basename(dir),
    authorize: createAuthorizer(config, store),
    policyWrites,
    checks: [
      {
        name: 'policies',
        check: async () => {
          if (!store.status().activated) throw new Error('the policy directory has not loaded');
        },
      },
    ],
    close: async () => {
      watcher?.close();
      await decisions?.close();
    },
  };
}
