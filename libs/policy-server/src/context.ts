import { basename, resolve } from 'node:path';
import type { Logger, MetricsRegistry, ReadinessCheck } from '@cloud-stack/service-kit';
import { createAuthorizer, type Authorizer } from './authz/authorize';
import { builtinAuthzModule } from './authz/builtin-policy';
import { BundleManager } from './bundles/bundle-manager';
import { policyWritesAllowed, type PolicyServerConfig } from './config';
import { openDecisionLogger } from './decision-log/config';
import type { DecisionLogger } from './decision-log/decision-logger';
import { maskPolicy, type DeferredMask } from './decision-log/mask-policy';
import type { DecisionLogSink } from './decision-log/types';
import { PolicyStore, type PolicySnapshot } from './store/policy-store';
import { watchDirectory, type DirectoryWatcher } from './store/watch';

/** What the HTTP handlers share. */
export interface PolicyServerContext {
  readonly config: PolicyServerConfig;
  readonly logger: Logger;
  readonly store: PolicyStore;
  /** Absent when decision logging is off. */
  readonly decisions?: DecisionLogger;
  /** The mask policy's step for a decision of `snapshot` (OPA's `system.log.mask`); undefined when that revision has none. */
  readonly decisionMask?: (snapshot: PolicySnapshot) => DeferredMask | undefined;
  readonly labels: Readonly<Record<string, string>>;
  /** Name under which the policy directory's revision appears in decision logs (`bundles`). */
  readonly bundleName: string;
  /** system.authz over every API call; absent when POLICY_AUTHORIZATION=off. */
  readonly authorize?: Authorizer;
  /** Whether PUT/DELETE /v1/policies may change the serving policies (see policyWritesAllowed). */
  readonly policyWrites: boolean;
  /** The bundle plugin; absent unless bundles are configured (OPA config `bundles`, or POLICY_BUNDLES), when POLICY_DIR is not loaded. */
  readonly bundles?: BundleManager;
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

/** Loads the policy directory, starts watching it and opens the decision-log sink. */
export async function openPolicyServer(config: PolicyServerConfig, options: OpenOptions): Promise<PolicyServer> {
  const { logger, metrics } = options;
  const dir = resolve(config.POLICY_DIR);
  const basic = config.POLICY_AUTHORIZATION === 'basic';
  const builtins = basic ? [builtinAuthzModule({ client: config.POLICY_TOKEN, admin: config.POLICY_ADMIN_TOKEN })] : [];
  const bundleMode = Object.keys(config.opa.bundles).length > 0 || config.POLICY_BUNDLES.length > 0;
  const store = new PolicyStore(logger, bundleMode ? undefined : dir, builtins, config.POLICY_V0_COMPATIBLE ? 'v0' : 'v1');
  if (config.POLICY_V0_COMPATIBLE) logger.info('policies are parsed as Rego v0 (--v0-compatible)');
  const bundles = bundleMode ? new BundleManager({ config: config.opa, localBundles: config.POLICY_BUNDLES, store, logger }) : undefined;
  if (bundles) await bundles.start();
  else await store.reload();
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
  const watcher: DirectoryWatcher | undefined = config.POLICY_WATCH && !bundles ? watchDirectory(dir, config.POLICY_RELOAD_DEBOUNCE_MS, reload, logger) : undefined;

  const decisions = openDecisionLogger(config, { logger, metrics, sink: options.sink });
  const decisionMask = decisions
    ? maskPolicy({
        path: config.opa.decision_logs?.mask_decision ?? '/system/log/mask',
        timeoutMs: config.EVAL_TIMEOUT_MS,
        maxSteps: config.EVAL_MAX_STEPS,
        onError: (err) => logger.error({ err }, 'decision log masking failed; the entry is dropped, never shipped unmasked'),
      })
    : undefined;

  return {
    config,
    logger,
    store,
    decisions,
    decisionMask,
    labels: { ...config.opa.labels, id: config.INSTANCE_ID, app: 'policy-sidecar', version: SIDECAR_VERSION },
    bundleName: basename(dir),
    authorize: createAuthorizer(config, store),
    policyWrites,
    bundles,
    checks: [
      {
        name: 'policies',
        check: async () => {
          if (bundles ? !bundles.allActivated() : !store.status().activated) throw new Error(bundles ? 'not every bundle is activated' : 'the policy directory has not loaded');
        },
      },
    ],
    close: async () => {
      watcher?.close();
      bundles?.close();
      await decisions?.close();
    },
  };
}
