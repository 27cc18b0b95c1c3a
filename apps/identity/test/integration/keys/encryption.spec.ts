import { describe, expect, it } from 'vitest';
import { createLogger } from '@cloud-stack/service-kit';
import { openIdentity, readIdentityConfig } from '@cloud-stack/identity-core';
import { introspect, useIdentity } from '../../support/harness';

const SECRET = 'first-signing-key-secret-of-forty-chars!';
const NEXT = 'second-signing-key-secret-forty-chars!!!';
const h = useIdentity({ SIGNING_KEY_SECRETS: SECRET });
const quiet = createLogger('identity-other', 'silent');

const storedKeys = () => h.ctx.db.selectFrom('signing_keys').select(['kid', 'private_key_pem']).execute();

describe('signing keys at rest', () => {
  it('are stored encrypted when SIGNING_KEY_SECRETS is set, and still sign', async () => {
    const rows = await storedKeys();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.private_key_pem).toMatch(/^enc:v1:/);
      expect(r.private_key_pem).not.toContain('PRIVATE KEY');
    }
    const { access_token } = await h.login('viewer@cloudstack.example');
    expect((await introspect(h, access_token)).body.active).toBe(true);
  });

  it('an instance without the secret refuses to start, naming the key and the variable', async () => {
    const config = { ...h.ctx.config, SIGNING_KEY_SECRETS: [] };
    await expect(openIdentity(config, { logger: quiet, migrate: false })).rejects.toThrow(/is encrypted with a secret that is not in SIGNING_KEY_SECRETS/);
  });

  it('a new secret put first re-seals the keys at start-up; tokens signed before stay valid', async () => {
    const { access_token } = await h.login('analyst@cloudstack.example');
    const config = { ...h.ctx.config, SIGNING_KEY_SECRETS: readIdentityConfig({ SIGNING_KEY_SECRETS: `${NEXT},${SECRET}` }).SIGNING_KEY_SECRETS };
    const rotated = await openIdentity(config, { logger: quiet, migrate: false });
    try {
      expect((await rotated.accessTokens.verify(access_token)).ok).toBe(true);
    } finally {
      await rotated.close();
    }
    const prefixes = new Set((await storedKeys()).map((r) => r.private_key_pem.split(':').slice(0, 3).join(':')));
    expect(prefixes.size).toBe(1);
    // Only the new secret is needed from now on.
    const onlyNext = await openIdentity({ ...h.ctx.config, SIGNING_KEY_SECRETS: [NEXT] }, { logger: quiet, migrate: false });
    await onlyNext.close();
  });

  it('rejects a secret shorter than 32 characters with one line naming the variable', () => {
    expect(() => readIdentityConfig({ SIGNING_KEY_SECRETS: 'short' })).toThrow(/SIGNING_KEY_SECRETS/);
  });
});
