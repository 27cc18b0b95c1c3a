# Role-based access control for the gateway: the role hierarchy (as identity issues it) and the
# permission catalogue, each permission mapped to the roles allowed.
package gateway.rbac

# Staff roles, most powerful first: each role holds every permission of the roles after it.
# Mirrors ROLE_HIERARCHY in @cloud-stack/contracts; `customer` stands outside the hierarchy.
hierarchy := ["owner", "admin", "operator", "developer", "analyst", "viewer"]

roles := {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"}

# Every permission a route can require, and the roles allowed it. A staff role listed implies
# every staff role above it (authz_test.rego checks that the hierarchy is respected); spelling
# the roles out keeps a decision one lookup, with no role arithmetic per request.
roles_allowed := {
	"agent:read": {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"},
	"agent:create": {"owner", "admin", "operator", "developer", "customer"},
	"agent:update": {"owner", "admin", "operator", "developer", "customer"},
	"agent:delete": {"owner", "admin", "operator"},
	"agent:execute": {"owner", "admin", "operator", "developer", "customer"},
	"agent:deploy": {"owner", "admin", "operator"},
	"run:read": {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"},
	"run:cancel": {"owner", "admin", "operator", "developer", "customer"},
	"tool:read": {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"},
	"tool:register": {"owner", "admin", "operator", "developer"},
	"tool:delete": {"owner", "admin", "operator"},
	"knowledge:read": {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"},
	"knowledge:write": {"owner", "admin", "operator", "developer", "customer"},
	"dataset:read": {"owner", "admin", "operator", "developer", "analyst"},
	"dataset:export": {"owner", "admin", "operator", "developer", "analyst"},
	"metrics:read": {"owner", "admin", "operator", "developer", "analyst", "viewer"},
	"billing:read": {"owner", "admin", "operator", "developer", "analyst", "customer"},
	"billing:update": {"owner", "admin"},
	"billing:approve": {"owner", "admin"},
	"audit:read": {"owner", "admin", "operator", "developer", "analyst"},
	"audit:export": {"owner", "admin"},
	"route:read": {"owner", "admin", "operator", "developer", "analyst", "viewer"},
	"route:admin": {"owner", "admin"},
	"user:read": {"owner", "admin", "operator"},
	"user:invite": {"owner", "admin"},
	"user:manage": {"owner", "admin"},
	"role:assign": {"owner"},
	"tenant:read": {"owner", "admin", "operator", "developer", "analyst", "viewer", "customer"},
	"tenant:update": {"owner"},
	"tenant:delete": {"owner"},
	"key:rotate": {"owner", "admin"},
	"policy:read": {"owner", "admin", "operator"},
	"policy:write": {"owner", "admin"},
	"secret:read": {"owner", "admin", "operator"},
	"secret:write": {"owner", "admin"},
}

# True when `role` is allowed `permission`.
grants(role, permission) if roles_allowed[permission][role]
