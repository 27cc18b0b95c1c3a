import { describe, expect, it } from 'vitest';
import { effectiveRoles, emailAllowed } from '../index';

describe('effectiveRoles', () => {
  it('expands granted roles down the hierarchy, in hierarchy order', () => {
    expect(effectiveRoles(['developer'])).toEqual(['developer', 'analyst', 'viewer']);
    expect(effectiveRoles(['viewer', 'admin'])).toEqual(['admin', 'operator', 'developer', 'analyst', 'viewer']);
  });

  it('keeps customer apart and drops unknown roles', () => {
    expect(effectiveRoles(['customer', 'emperor'])).toEqual(['customer']);
  });
});

describe('emailAllowed', () => {
  it('admits anyone when the tenant has no domain list', () => {
    expect(emailAllowed({ allowed_email_domains: [] }, 'a@anything.example')).toBe(true);
  });

  it('admits only listed domains, case-insensitively and exactly', () => {
    const tenant = { allowed_email_domains: ['cloudstack.example'] };
    expect(emailAllowed(tenant, 'a@CloudStack.example')).toBe(true);
    expect(emailAllowed(tenant, 'a@evil-cloudstack.example')).toBe(false);
    expect(emailAllowed(tenant, 'a@cloudstack.example.evil.example')).toBe(false);
    expect(emailAllowed(tenant, 'cloudstack.example@evil.example')).toBe(false);
  });
});
