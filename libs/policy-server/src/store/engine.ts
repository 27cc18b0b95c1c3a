import { compileModules, type PolicySet, type RegoVersion } from '@cloud-stack/rego';
import { engineErrorDetails, type OpaErrorDetail } from '../opa/errors';

export type { PolicySet } from '@cloud-stack/rego';

export interface StoredModule {
  readonly id: string;
  readonly source: string;
  /**
   * `file`: loaded from the policy directory (replaced on reload); `api`: PUT /v1/policies;
   * `builtin`: supplied by the server (the default system.authz), present unless a file or the
   * API gives a module with its id; `bundle`: from an activated bundle (replaced at each activation).
   */
  readonly origin: 'file' | 'api' | 'builtin' | 'bundle';
  /** The module's own Rego version (a bundle manifest's per-file choice), over the server's default. */
  readonly regoVersion?: RegoVersion;
}

export type CompileOutcome =
  | { readonly ok: true; readonly set: PolicySet }
  | { readonly ok: false; readonly errors: readonly OpaErrorDetail[]; readonly message: string };

/**
 * Compiles modules into a new policy set without touching the one serving requests.
 * `regoVersion` is OPA's `--v0-compatible` choice for modules that do not name their own; the
 * server's built-in modules are written in v1 and stay v1.
 */
export function compileSet(modules: Iterable<StoredModule>, regoVersion: RegoVersion = 'v1'): CompileOutcome {
  const list = [...modules].map((m) => ({
    file: m.id,
    source: m.source,
    regoVersion: m.regoVersion ?? (m.origin === 'builtin' ? ('v1' as const) : undefined),
  }));
  try {
    return { ok: true, set: compileModules(list, { regoVersion }) };
  } catch (err) {
    return { ok: false, errors: engineErrorDetails(err), message: err instanceof Error ? err.message : String(err) };
  }
}
