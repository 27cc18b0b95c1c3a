import { createHash } from 'node:crypto';
import type { StoredModule } from '../store/engine';

/** The id under which the built-in policy is stored; a POLICY_DIR file with this id replaces it. */
export const BUILTIN_AUTHZ_ID = 'system/authz.rego';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const setOf = (tokens: readonly (string | undefined)[]) => {
  const digests = tokens.filter((t): t is string => t !== undefined).map((t) => JSON.stringify(digest(t)));
  return digests.length ? `{${digests.join(', ')}}` : 'set()';
};

/**
 * The `system.authz` policy the sidecar serves under POLICY_AUTHORIZATION=basic when the policy
 * directory brings none: probes need no token, clients (POLICY_TOKEN, the gateway) may query
 * decisions, administrators (POLICY_ADMIN_TOKEN) may use the whole API. Tokens appear only as
 * SHA-256 digests, so reading the policy back does not reveal them.
 */
export function builtinAuthzModule(tokens: { readonly client?: string; readonly admin?: string }): StoredModule {
  const source = `package system.authz

# Built into the policy-sidecar (POLICY_AUTHORIZATION=basic); replace it with ${BUILTIN_AUTHZ_ID} in POLICY_DIR.

default allow := false

# Liveness, readiness and metrics probes carry no token.
allow if {
	input.method == "GET"
	input.path in {["health"], ["ready"], ["metrics"]}
}

# Clients (POLICY_TOKEN): decisions through the Data API, outside data.system.
allow if {
	crypto.sha256(input.identity) in client_digests
	input.method in {"GET", "POST"}
	input.path[0] == "v1"
	input.path[1] == "data"
	input.path[2] != "system"
}

# Administrators (POLICY_ADMIN_TOKEN): the whole API, policy writes included.
allow if crypto.sha256(input.identity) in admin_digests

client_digests := ${setOf([tokens.client])}

admin_digests := ${setOf([tokens.admin])}
`;
  return { id: BUILTIN_AUTHZ_ID, source, origin: 'builtin' };
}
