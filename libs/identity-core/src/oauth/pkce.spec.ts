import { describe, expect, it } from 'vitest';
import { isS256Challenge, verifierMatches } from './pkce';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE S256', () => {
  it('accepts the verifier of RFC 7636 appendix B', () => {
    expect(isS256Challenge(CHALLENGE)).toBe(true);
    expect(verifierMatches(VERIFIER, CHALLENGE)).toBe(true);
  });

  it('refuses another verifier, a verifier sent as its own challenge, and malformed ones', () => {
    expect(verifierMatches(`${VERIFIER.slice(0, -1)}A`, CHALLENGE)).toBe(false);
    expect(verifierMatches(CHALLENGE, CHALLENGE)).toBe(false);
    expect(verifierMatches('short', CHALLENGE)).toBe(false);
    expect(verifierMatches(`${VERIFIER}!`, CHALLENGE)).toBe(false);
  });

  it('takes only 43 base64url characters as a challenge', () => {
    expect(isS256Challenge(VERIFIER.slice(0, 42))).toBe(false);
    expect(isS256Challenge(`${CHALLENGE}=`)).toBe(false);
    expect(isS256Challenge(CHALLENGE.replace('-', '+'))).toBe(false);
  });
});
