import { roleIncludes, type IntrospectionResponse } from '@cloud-stack/contracts';
import { HttpProblem } from '@cloud-stack/service-kit';

/** Who is reading the audit log, and how far they see. */
export interface AuditCaller {
  readonly subject: string;
  /** null for platform auditors, who see every tenant. */
  readonly tenantId: string | null;
  readonly platform: boolean;
}

export interface CallerRules {
  /** The tenant whose owners and admins audit the whole platform. */
  readonly platformTenantId: string;
}

/** OAuth scope that makes a client a platform auditor whatever its tenant (compliance tooling). */
export const PLATFORM_AUDIT_SCOPE = 'audit:platform';

/**
 * Who may read (with an active access token):
 * - platform auditor (every tenant): owner/admin of the platform tenant, or a token with scope
 *   `audit:platform`;
 * - tenant auditor (own tenant only): owner/admin of that tenant;
 * - anyone else: 403.
 */
export function authorizeCaller(intro: IntrospectionResponse, rules: CallerRules): AuditCaller {
  if (!intro.active) throw new HttpProblem(401, 'the bearer token is not active', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  // Identity introspects refresh tokens too (token_type "refresh_token"); they are not bearer credentials.
  if (intro.token_type !== undefined && intro.token_type.toLowerCase() !== 'bearer') {
    throw new HttpProblem(401, 'only an access token is accepted as a bearer token', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  }
  const subject = intro.sub ?? intro.client_id ?? 'unknown';
  const admin = (intro.roles ?? []).some((r) => roleIncludes(r, 'admin'));
  const scopes = (intro.scope ?? '').split(' ').filter(Boolean);
  if (scopes.includes(PLATFORM_AUDIT_SCOPE) || (admin && intro.tenant_id === rules.platformTenantId)) {
    return { subject, tenantId: null, platform: true };
  }
  if (admin && intro.tenant_id) return { subject, tenantId: intro.tenant_id, platform: false };
  throw new HttpProblem(403, 'reading the audit log needs the owner or admin role of a tenant, or platform auditor rights');
}
