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
 * and partially evaluate decisions outside data.system (never ad-hoc queries: those could read
 * any document or call any built-in), administrators (POLICY_ADMIN_TOKEN) may use the whole API. Tokens appear only as
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

# Clients (POLICY_TOKEN) may decide, and partially evaluate, any document outside data.system:
# through the Data API (GET, POST /v1/data/{path}), EOPA's data filters (POST /v1/compile/{path})
# and OPA's Compile API (POST /v1/compile) for a query that is one reference to such a document.
allow if {
	crypto.sha256(input.identity) in client_digests
	client_call
	named_document[0] != "system"
}

# Clients may read what decides (the modules, the bundles' revisions), for an operator console
# behind them; the modules hold no secret (this one carries token digests only).
allow if {
	crypto.sha256(input.identity) in client_digests
	input.method == "GET"
	input.path[0] == "v1"
	input.path[1] in {"policies", "status"}
}

allow if {
	crypto.sha256(input.identity) in client_digests
	input.method == "POST"
	input.path[0] == "v1"
	input.path[1] == "compile"
	count(named_document) == 0
	client_query(input.body.query)
}

client_call if {
	input.method in {"GET", "POST"}
	input.path[0] == "v1"
	input.path[1] == "data"
}

client_call if {
	input.method == "POST"
	input.path[0] == "v1"
	input.path[1] == "compile"
}

# The document the URL names, its empty segments dropped as the handlers drop them
# (/v1/data//system names data.system).
named_document := [s | some s in array.slice(input.path, 2, count(input.path)); s != ""]

# A query of one reference into data, outside data.system: data.a.b
client_query(q) if {
	regex.match("^data([.][A-Za-z_][A-Za-z0-9_]*)+$", trim_space(q))
	split(trim_space(q), ".")[1] != "system"
}

# Administrators (POLICY_ADMIN_TOKEN): the whole API, policy writes included.
allow if crypto.sha256(input.identity) in admin_digests

client_digests := ${setOf([tokens.client])}

admin_digests := ${setOf([tokens.admin])}
`;
  return { id: BUILTIN_AUTHZ_ID, source, origin: 'builtin' };
}
