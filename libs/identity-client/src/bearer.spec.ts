import { describe, expect, it } from 'vitest';
import { bearerToken } from './index';

describe('bearerToken', () => {
  it('returns the b64token of a Bearer header, whatever the scheme’s case', () => {
    expect(bearerToken('Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln')).toBe('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER a-b.c_d~e+f/g==')).toBe('a-b.c_d~e+f/g==');
  });

  it('refuses anything that is not exactly one Bearer credential', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Bearer  abc', ' Bearer abc', 'Bearer abc ', 'Basic abc', 'Bearerabc', 'Bearer a b', 'Bearer a=b', 'Bearer abc,def', 'Bearer "abc"', 'Bearer ab\u00e9', 'Bearer abc\n']) {
      expect(bearerToken(header), JSON.stringify(header)).toBeUndefined();
    }
  });
});
