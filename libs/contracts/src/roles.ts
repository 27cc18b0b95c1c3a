import { z } from 'zod';

/** Staff roles, most powerful first: each role holds every permission of the roles after it. */
export const ROLE_HIERARCHY = ['owner', 'admin', 'operator', 'developer', 'analyst', 'viewer'] as const;
/** Roles outside the staff hierarchy. */
export const STANDALONE_ROLES = ['customer'] as const;
export const ROLES = [...ROLE_HIERARCHY, ...STANDALONE_ROLES] as const;

export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** The role itself and every role it includes, e.g. admin → admin, operator, developer, analyst, viewer. */
export function impliedRoles(role: Role): Role[] {
  const rank = (ROLE_HIERARCHY as readonly string[]).indexOf(role);
  return rank < 0 ? [role] : ROLE_HIERARCHY.slice(rank);
}

/** True when `held` includes `required` in the hierarchy. */
export function roleIncludes(held: Role, required: Role): boolean {
  return impliedRoles(held).includes(required);
}
