# The gateway's authorization decision, queried once per request at data.gateway.authz.decision
# with the PolicyInput document of @cloud-stack/contracts:
#   request {method, host, path}, route {id, params, permission, requires_governor, cost},
#   subject {authenticated, sub, tenant_id, client_id, roles, is_governor, trial_mode, agent_id},
#   budget {monthly_spend, cap} | null.
# The result is a PolicyResult: {allow, reasons, obligations: {route_to}, policy}.
package gateway.authz

import data.gateway.rbac

policy_name := "gateway.authz"

# An input without request, route and subject cannot be judged: deny, and say why.
default decision := {
	"allow": false,
	"reasons": ["malformed input: request, route and subject are required"],
	"obligations": {},
	"policy": "gateway.authz",
}

decision := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
	"policy": policy_name,
} if {
	is_object(input.request)
	is_object(input.route)
	is_object(input.subject)
}

default allow := false

allow if count(deny) == 0

# Denied: every reason, sorted. Allowed: what allowed it, sorted.
reasons := sort(deny) if count(deny) > 0
else := sort(grant)

# The permission the matched route requires; "" marks a public route.
permission := input.route.permission

public_route if permission == ""

# --- Reasons to deny -------------------------------------------------------------------------

deny contains "unauthenticated: this route requires a valid token" if {
	not public_route
	not input.subject.authenticated == true
}

deny contains sprintf("unknown permission %s", [permission]) if {
	not public_route
	not rbac.roles_allowed[permission]
}

deny contains sprintf("permission %s is not granted to roles [%s]", [permission, concat(", ", input.subject.roles)]) if {
	not public_route
	input.subject.authenticated == true
	rbac.roles_allowed[permission]
	count(granting_roles) == 0
}

deny contains "governor required: this route requires a governor" if {
	input.route.requires_governor == true
	not input.subject.is_governor == true
}

# Deny when the month's spend plus this request's cost would exceed the cap. Requests that cost
# nothing (reads) stay allowed after the cap is reached.
deny contains sprintf("budget cap exceeded: monthly spend %v + cost %v > cap %v", [spend, cost, cap]) if {
	[spend, cost, cap] := budget
	cost > 0
	spend + cost > cap
}

budget := [input.budget.monthly_spend, input.route.cost, input.budget.cap] if is_object(input.budget)

# --- What allowed it --------------------------------------------------------------------------

grant contains "public route" if public_route

grant contains sprintf("role %s grants %s", [role, permission]) if {
	not public_route
	some role in granting_roles
}

# The subject's roles that are allowed the route's permission.
granting_roles contains role if {
	some role in input.subject.roles
	rbac.roles_allowed[permission][role]
}

grant contains "governor requirement met" if {
	input.route.requires_governor == true
	input.subject.is_governor == true
}

grant contains "trial mode: routed to the sandbox" if sandboxed

grant contains sprintf("within budget: monthly spend %v + cost %v <= cap %v", [spend, cost, cap]) if {
	[spend, cost, cap] := budget
	cost > 0
	spend + cost <= cap
}

# --- Obligations the gateway must honour ------------------------------------------------------

# A trial subject's executions go to the sandbox upstream, never to the primary one.
sandboxed if {
	input.subject.trial_mode == true
	permission in data.gateway.settings.sandbox_permissions
}

obligations := {"route_to": "sandbox"} if sandboxed
else := {"route_to": "primary"}
