import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { useIdentity } from '../../support/harness';

const h = useIdentity({ LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW_SECONDS: '2' });

const signIn = (username: string, password: string) =>
  request(h.app).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username, password });

const LOCKED = { error: 'invalid_grant', error_description: 'too many failed sign-ins for this username; try again later' };
const INVALID = { error: 'invalid_grant', error_description: 'invalid username or password' };

describe('password guessing is throttled per username', () => {
  it('locks a username after the allowed failures, even for the right password, until the window ends', async () => {
    const email = 'developer@cloudstack.example';
    for (let i = 0; i < 3; i++) expect((await signIn(email, `guess-${i}`)).body).toEqual(INVALID);

    const hashesBefore = h.ctx.hasher.verifications;
    const refused = await signIn(email, h.password(email));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual(LOCKED);
    expect(h.ctx.hasher.verifications).toBe(hashesBefore); // no scrypt spent on a locked username

    // Other users are not affected.
    expect((await signIn('analyst@cloudstack.example', h.password('analyst@cloudstack.example'))).status).toBe(200);

    await new Promise((r) => setTimeout(r, 2100));
    expect((await signIn(email, h.password(email))).status).toBe(200);
  });

  it('locks unknown usernames the same way, so the lockout tells nothing about who exists', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn('ghost@cloudstack.example', `guess-${i}`)).body).toEqual(INVALID);
    expect((await signIn('ghost@cloudstack.example', 'anything')).body).toEqual(LOCKED);
    // The count is per normalised username: case and spaces do not make a fresh one.
    expect((await signIn('  GHOST@cloudstack.example ', 'anything')).body).toEqual(LOCKED);
  });

  it('forgets the failures after a successful sign-in', async () => {
    const email = 'viewer@cloudstack.example';
    for (let i = 0; i < 2; i++) await signIn(email, `guess-${i}`);
    expect((await signIn(email, h.password(email))).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await signIn(email, `guess-${i}`)).body).toEqual(INVALID);
    expect((await signIn(email, h.password(email))).status).toBe(200);
  });
});
