import { describe, expect, it } from 'vitest';
import { OAuthError } from '../index';
import { resolveScope } from './params';

describe('resolveScope', () => {
  it('grants every allowed scope when none is requested', () => {
    expect(resolveScope(undefined, ['api', 'admin'])).toBe('api admin');
  });

  it('grants a requested subset and refuses anything else with invalid_scope', () => {
    expect(resolveScope('admin', ['api', 'admin'])).toBe('admin');
    expect(() => resolveScope('api root', ['api'])).toThrow(OAuthError);
    try {
      resolveScope('api root', ['api']);
    } catch (err) {
      expect((err as OAuthError).code).toBe('invalid_scope');
    }
  });
});
