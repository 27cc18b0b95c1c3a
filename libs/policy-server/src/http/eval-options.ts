import { Ordered } from '../opa/json';
import type { PolicyServerConfig } from '../config';
import { SIDECAR_VERSION, type PolicyServerContext } from '../context';
import type { PolicySnapshot } from '../store/policy-store';
import type { SourceOf } from './explain';

/** OPA's one detail for a cancelled query (no location). */
export const EVAL_CANCELLED = { code: 'eval_cancel_error', message: 'caller cancelled query execution' } as const;

/**
 * The engine's own stops for a runaway evaluation (time and step budgets); callers still check
 * the clock after evaluate(), for a built-in that blocked past the deadline.
 */
export function evalLimits(config: Pick<PolicyServerConfig, 'EVAL_TIMEOUT_MS' | 'EVAL_MAX_STEPS'>): { timeoutMs: number; maxSteps?: number } {
  return { timeoutMs: config.EVAL_TIMEOUT_MS, ...(config.EVAL_MAX_STEPS > 0 ? { maxSteps: config.EVAL_MAX_STEPS } : {}) };
}

/** Source text for explanations: the snapshot's modules by id, `query` for the query itself. */
export function sourceLookup(snapshot: PolicySnapshot, queryText: string): SourceOf {
  return (file) => (file === 'query' ? queryText : snapshot.modules.get(file)?.source);
}

/** The activated bundles by name with their manifest revisions; without bundles, the policy directory and its load revision. */
function bundleRevisions(ctx: PolicyServerContext, snapshot: PolicySnapshot): Record<string, Ordered> {
  if (!ctx.bundles) return { [ctx.bundleName]: new Ordered({ revision: String(snapshot.revision) }) };
  return Object.fromEntries(snapshot.bundles.map((b) => [b.name, new Ordered({ revision: b.revision })]));
}

/**
 * A decision-log entry's `bundles`: OPA's `{<name>: {"revision"}}` for each bundle the deciding
 * revision serves (the revision left out when the manifest names none, as OPA's omitempty;
 * undefined before any bundle activated). Without bundles, the policy directory under its name
 * with the store's load revision.
 */
export function decisionBundles(ctx: PolicyServerContext, snapshot: PolicySnapshot): Record<string, { revision?: string }> | undefined {
  if (!ctx.bundles) return { [ctx.bundleName]: { revision: String(snapshot.revision) } };
  if (snapshot.bundles.length === 0) return undefined;
  return Object.fromEntries(snapshot.bundles.map((b) => [b.name, b.revision === '' ? {} : { revision: b.revision }]));
}

/**
 * `?provenance`: OPA's ProvenanceV1 (version, build_commit, build_timestamp, build_hostname,
 * bundles by name with their revision). The sidecar carries no build stamp, so the three build
 * fields are empty.
 */
export function provenance(ctx: PolicyServerContext, snapshot: PolicySnapshot): Ordered {
  return new Ordered({
    version: SIDECAR_VERSION,
    build_commit: '',
    build_timestamp: '',
    build_hostname: '',
    bundles: bundleRevisions(ctx, snapshot),
  });
}
