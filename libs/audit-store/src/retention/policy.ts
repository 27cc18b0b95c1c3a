import { AUDIT_CATEGORIES, type AuditCategory } from '@cloud-stack/contracts';

/** Days each category is kept. Unknown categories found in the data are never pruned. */
export type RetentionPolicy = Readonly<Record<AuditCategory, number>>;

/** 90 days for request traffic and the policy decisions it triggers; 7 years for admin and governor actions. */
export const DEFAULT_RETENTION: RetentionPolicy = {
  request: 90,
  policy_decision: 90,
  admin: 2557,
  governor: 2557,
};

/**
 * Parses `AUDIT_RETENTION_DAYS`, e.g. "request=30,admin=3650": listed categories override the
 * defaults. Throws a TypeError naming the bad entry.
 */
export function parseRetentionPolicy(value: string | undefined, base: RetentionPolicy = DEFAULT_RETENTION): RetentionPolicy {
  const policy: Record<string, number> = { ...base };
  for (const entry of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([a-z_]+)\s*=\s*(\d+)$/.exec(entry);
    if (!match || !(AUDIT_CATEGORIES as readonly string[]).includes(match[1]!)) {
      throw new TypeError(`bad retention entry "${entry}" (expected <category>=<days>, category one of ${AUDIT_CATEGORIES.join(', ')})`);
    }
    const days = Number(match[2]);
    if (days < 1) throw new TypeError(`retention of ${match[1]} must be at least 1 day`);
    policy[match[1]!] = days;
  }
  return policy as RetentionPolicy;
}
