import type { PolicyInput, PolicyResult } from '@cloud-stack/contracts';

/** A decision as the gateway uses it: the policy's result and the id the decision was logged under. */
export interface Decision {
  readonly result: PolicyResult;
  readonly decisionId: string | null;
}

/** One loaded policy module (OPA's Policy API shape, plus the file it came from when known). */
export interface PolicyModule {
  readonly id: string;
  readonly path?: string;
  readonly raw: string;
}

/** What the gateway's policy is made of: where it is evaluated, its revision, its modules. */
export interface PolicyListing {
  readonly mode: 'sidecar' | 'embedded';
  readonly revision: string | null;
  readonly modules: readonly PolicyModule[];
}

/** Where decisions come from: the policy-sidecar (or a real OPA) over HTTP, or the engine in-process. */
export interface PolicyClient {
  /** `path` is the decision's path under /v1/data, e.g. `gateway/authz/decision`. */
  decide(path: string, input: PolicyInput): Promise<Decision>;
  /** The loaded modules and revision (for the operator console); throws PolicyUnavailableError when it cannot be read. */
  describe(): Promise<PolicyListing>;
  /** Resolves when the policy can be asked (for /ready). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** The policy could not be asked, or answered something that is not a decision: fail closed (or open, per route). */
export class PolicyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyUnavailableError';
  }
}
