package system.authz

# For the real OPA in docker-compose's `opa` profile (`opa run --authentication=token
# --authorization=basic`): the same rules as the policy-sidecar's built-in system.authz policy,
# with the tokens read from OPA's environment (POLICY_TOKEN, POLICY_ADMIN_TOKEN) instead of baked in.

default allow := false

# Liveness, readiness and metrics probes carry no token.
allow if {
	input.method == "GET"
	input.path in {["health"], ["ready"], ["metrics"]}
}

# Clients (POLICY_TOKEN, the gateway): decisions through the Data API, outside data.system.
allow if {
	token := opa.runtime().env.POLICY_TOKEN
	token != ""
	input.identity == token
	input.method in {"GET", "POST"}
	input.path[0] == "v1"
	input.path[1] == "data"
	input.path[2] != "system"
}

# Administrators (POLICY_ADMIN_TOKEN, optional): the whole API.
allow if {
	admin := object.get(opa.runtime().env, "POLICY_ADMIN_TOKEN", "")
	admin != ""
	input.identity == admin
}
