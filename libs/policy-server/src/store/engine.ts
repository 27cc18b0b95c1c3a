import { compileModules, type PolicySet } from '@cloud-stack/rego';
import { engineErrorDetails, type OpaErrorDetail } from '../opa/errors';

export type { PolicySet } from '@cloud-stack/rego';

export interface StoredModule {
  readonly id: string;
  readonly source: string;
  /** `file`: loaded from the policy directory (replaced on reload); `api`: PUT /v1/policies. */
  readonly origin: 'file' | 'api';
}

export type CompileOutcome =
  | { readonly ok: true; readonly set: PolicySet }
  | { readonly ok: false; readonly errors: readonly OpaErrorDetail[]; readonly message: string };

/** Compiles modules into a new policy set without touching the one serving requests. */
export function compileSet(modules: Iterable<StoredModule>): CompileOutcome {
  const list = [...modules].map((m) => ({ file: m.id, source: m.source }));
  try {
    return { ok: true, set: compileModules(list) };
  } catch (err) {
    return { ok: false, errors: engineErrorDetails(err), message: err instanceof Error ? err.message : String(err) };
  }
}
