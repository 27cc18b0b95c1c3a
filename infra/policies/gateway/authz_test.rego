# Unit tests of data.gateway.authz: `npm run policy:test` (our engine) or `opa test infra/policies`.
package gateway.authz_test

import data.gateway.authz
import data.gateway.rbac

base := {
	"request": {"method": "GET", "host": "api.example.com", "path": "/agents/a1"},
	"route": {"id": "agents.get", "params": {"id": "a1"}, "permission": "agent:read", "requires_governor": false, "cost": 0},
	"subject": {
		"authenticated": true,
		"sub": "user-1",
		"tenant_id": "tenant-1",
		"client_id": "client-1",
		"roles": ["viewer"],
		"is_governor": false,
		"trial_mode": false,
		"agent_id": null,
	},
	"budget": null,
}

# The decision for `base` with some fields of route, subject and budget replaced.
decide(route, subject, budget) := d if {
	doc := object.union(base, {"route": object.union(base.route, route), "subject": object.union(base.subject, subject), "budget": budget})
	d := authz.decision with input as doc
}

# Whether `role` alone may use a route requiring `permission`.
allowed(role, permission) if {
	d := as_role(role, permission)
	d.allow == true
}

as_role(role, permission) := decide({"permission": permission}, {"roles": [role]}, null)

test_viewer_can_read_agents if {
	d := as_role("viewer", "agent:read")
	d.allow == true
	d.reasons == ["role viewer grants agent:read"]
	d.policy == "gateway.authz"
	d.obligations == {"route_to": "primary"}
}

# The operator console: every staff role sees the gateway's routes, only owner and admin change them.
test_viewer_reads_routes_but_cannot_change_them if {
	allowed("viewer", "route:read")
	not allowed("viewer", "route:admin")
	not allowed("customer", "route:read")
	allowed("admin", "route:admin")
}

test_viewer_cannot_create_agents if {
	d := as_role("viewer", "agent:create")
	d.allow == false
	d.reasons == ["permission agent:create is not granted to roles [viewer]"]
}

test_developer_inherits_viewer_permissions if {
	allowed("developer", "agent:read")
	allowed("developer", "agent:create")
	not allowed("developer", "agent:delete")
}

test_owner_holds_every_permission if {
	every permission, _ in rbac.roles_allowed {
		rbac.grants("owner", permission)
	}
}

test_staff_permissions_follow_the_hierarchy if {
	# A staff role allowed a permission implies every staff role above it.
	violations := {[permission, rbac.hierarchy[j]] |
		some permission, roles in rbac.roles_allowed
		some i, role in rbac.hierarchy
		roles[role]
		some j in numbers.range(0, i)
		not roles[rbac.hierarchy[j]]
	}
	violations == set()
}

test_only_known_roles_are_allowed if {
	every _, roles in rbac.roles_allowed {
		count(roles - rbac.roles) == 0
	}
}

test_admin_can_approve_billing if allowed("admin", "billing:approve")

test_operator_cannot_approve_billing if not allowed("operator", "billing:approve")

test_customer_can_execute_agents if allowed("customer", "agent:execute")

test_customer_is_outside_the_staff_hierarchy if {
	not allowed("customer", "audit:export")
	not allowed("customer", "metrics:read")
}

test_any_role_of_the_subject_can_grant if {
	d := decide({"permission": "route:admin"}, {"roles": ["customer", "admin"]}, null)
	d.allow
	d.reasons == ["role admin grants route:admin"]
}

test_roles_allowed_are_spelled_out if {
	rbac.roles_allowed["billing:approve"] == {"owner", "admin"}
	rbac.roles_allowed["agent:read"] == {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"}
	rbac.roles_allowed["role:assign"] == {"owner"}
}

test_catalogue_has_at_least_25_permissions if count(rbac.roles_allowed) >= 25

test_unauthenticated_is_denied if {
	d := decide({}, {"authenticated": false, "sub": null, "roles": []}, null)
	d.allow == false
	d.reasons == ["unauthenticated: this route requires a valid token"]
}

test_unknown_permission_is_denied if {
	d := as_role("owner", "spaceship:launch")
	d.allow == false
	d.reasons == ["unknown permission spaceship:launch"]
}

test_public_route_needs_no_token if {
	d := decide({"permission": ""}, {"authenticated": false, "roles": []}, null)
	d.allow
	d.reasons == ["public route"]
}

test_governor_route_denies_non_governors if {
	d := decide({"permission": "policy:write", "requires_governor": true}, {"roles": ["owner"]}, null)
	d.allow == false
	d.reasons == ["governor required: this route requires a governor"]
}

test_governor_route_allows_governors if {
	d := decide({"permission": "policy:write", "requires_governor": true}, {"roles": ["admin"], "is_governor": true}, null)
	d.allow
	"governor requirement met" in d.reasons
}

test_trial_execute_goes_to_the_sandbox if {
	d := decide({"permission": "agent:execute"}, {"roles": ["customer"], "trial_mode": true, "agent_id": "agent-7"}, null)
	d.allow
	d.obligations == {"route_to": "sandbox"}
	"trial mode: routed to the sandbox" in d.reasons
}

test_trial_read_stays_on_primary if {
	d := decide({"permission": "agent:read"}, {"trial_mode": true}, null)
	d.allow
	d.obligations == {"route_to": "primary"}
}

test_non_trial_execute_stays_on_primary if {
	d := as_role("developer", "agent:execute")
	d.obligations == {"route_to": "primary"}
}

test_budget_cap_exceeded_is_denied if {
	d := decide({"permission": "agent:execute", "cost": 5}, {"roles": ["developer"]}, {"monthly_spend": 98, "cap": 100})
	d.allow == false
	d.reasons == ["budget cap exceeded: monthly spend 98 + cost 5 > cap 100"]
}

test_budget_exactly_at_cap_is_allowed if {
	d := decide({"permission": "agent:execute", "cost": 2}, {"roles": ["developer"]}, {"monthly_spend": 98, "cap": 100})
	d.allow
	"within budget: monthly spend 98 + cost 2 <= cap 100" in d.reasons
}

test_free_requests_pass_over_the_cap if {
	d := decide({"permission": "agent:read", "cost": 0}, {}, {"monthly_spend": 150, "cap": 100})
	d.allow
}

test_every_reason_is_listed_sorted if {
	d := decide({"permission": "billing:approve", "requires_governor": true, "cost": 10}, {"roles": ["viewer"]}, {"monthly_spend": 100, "cap": 100})
	d.allow == false
	d.reasons == [
		"budget cap exceeded: monthly spend 100 + cost 10 > cap 100",
		"governor required: this route requires a governor",
		"permission billing:approve is not granted to roles [viewer]",
	]
}

test_malformed_input_is_denied if {
	d := authz.decision with input as {"route": base.route}
	d.allow == false
	d.reasons == ["malformed input: request, route and subject are required"]
}
