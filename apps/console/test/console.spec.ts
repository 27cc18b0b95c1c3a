import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { sql } from 'kysely';
import { createDb } from '@cloud-stack/db';
import { loadDigestSigner, sealClosedIntervals } from '@cloud-stack/audit-store';
import { REPO_ROOT, startEchoUpstream, type EchoUpstream } from '@cloud-stack/test-kit';
// The platform's process-per-service stack of the e2e suite, reused rather than copied.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { useE2eStack } from '../../../tools/e2e/src/stack';
import { ensureChromium } from './browser';

const chromium = ensureChromium();
if ('skip' in chromium) console.log(chromium.skip);

const SHOTS = resolve(REPO_ROOT, 'tmp/test-results/console');
const CLIENT_ID = 'operator-console-test';
const USERS = {
  admin: { email: 'admin@cloudstack.example', password: 'demo-admin-pass' },
  operator: { email: 'operator@cloudstack.example', password: 'demo-operator-pass' },
  viewer: { email: 'viewer@cloudstack.example', password: 'demo-viewer-pass' },
};
const CHANGE_BUTTONS = /New draft|Roll back|Edit|Delete|Activate|Accept|Drop|Run discovery|Add route/;
/** The route the scenarios edit: GET /api/v1/status (agent:read) on the agents upstream. */
const EDITED = 'e2e.status';
const TIMEOUT = 60_000;

describe.skipIf('skip' in chromium)('the operator console in Chromium', () => {
  const stack = useE2eStack();
  let browser: Browser;
  let fresh: EchoUpstream;
  const gateway = () => stack.gateways.sidecar.url;
  const consoleUrl = (path = '') => `${gateway()}/__gateway/console/${path}`;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    fresh = await startEchoUpstream('fresh');
    // A browser client whose redirect URI is this run's gateway (the seeded one names port 8080).
    const client = await stack.identity.admin('POST', '/v1/tenants/platform/clients', {
      client_id: CLIENT_ID,
      name: 'Cloud Stack operator console (test)',
      client_type: 'public',
      grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'api', 'admin'],
      redirect_uris: [consoleUrl('callback')],
    });
    if (client.status !== 201) throw new Error(`registering ${CLIENT_ID}: ${client.status} ${await client.text()}`);
    // The audit API under the gateway's own origin, where the console calls it.
    const owner = await stack.token('owner@cloudstack.example');
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${gateway()}/__gateway/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // The console calls the audit API on the gateway's origin; the demo's route file has that
    // route, this adds it only if the file in use lacks it.
    const live = (await (await admin('GET', '/routes')).json()) as { routes: { path: string }[] };
    if (!live.routes.some((r) => r.path === '/v1/audit/*')) {
      const draft = (await (await admin('POST', '/versions', { note: 'audit API for the console' })).json()) as { version: number };
      const put = await admin('PUT', `/versions/${draft.version}/routes/console.audit-api`, { product: 'audit', path: '/v1/audit/*', upstream: stack.auditWriter.url, stages: ['auth', 'audit'] });
      if (put.status !== 201) throw new Error(`adding the audit route: ${put.status} ${await put.text()}`);
      const activated = await admin('POST', `/versions/${draft.version}/activate`);
      if (activated.status !== 200) throw new Error(`activating: ${activated.status} ${await activated.text()}`);
    }
    browser = await playwright.launch({ executablePath: (chromium as { path: string }).path, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fresh?.close();
  });

  /** A page whose console reads this run's identity and client from config.json. */
  async function open(width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    await page.route('**/__gateway/console/config.json', (route) => route.fulfill({ json: { identity_url: stack.identity.url, client_id: CLIENT_ID } }));
    return page;
  }

  async function signIn(page: Page, who: keyof typeof USERS, path = 'routes'): Promise<void> {
    await page.goto(consoleUrl(path));
    await page.getByRole('button', { name: 'Sign in with Cloud Stack identity' }).click();
    await page.waitForURL(`${stack.identity.url}/oauth/authorize**`);
    await page.getByLabel('E-mail').fill(USERS[who].email);
    await page.getByLabel('Password').fill(USERS[who].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').waitFor();
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const echoed = (u: EchoUpstream, id: string) => u.seen.filter((e) => e.headers['x-correlation-id'] === id).length;
  async function status(id: string): Promise<number> {
    const res = await fetch(`${gateway()}/api/v1/status`, { headers: { authorization: `Bearer ${await stack.token(USERS.admin.email)}`, 'x-correlation-id': id } });
    await res.arrayBuffer();
    return res.status;
  }

  it('signs in with the authorization code flow and PKCE, keeps tokens out of storage, and signs out by revoking', async () => {
    const page = await open();
    const issued: { refresh_token?: string }[] = [];
    page.on('response', (res) => {
      if (res.url() === `${stack.identity.url}/oauth/token` && res.request().method() === 'POST') void res.json().then((b: { refresh_token?: string }) => issued.push(b), () => undefined);
    });
    await page.goto(consoleUrl());
    await page.getByRole('button', { name: 'Sign in with Cloud Stack identity' }).waitFor();
    await shot(page, 'sign-in');
    await signIn(page, 'admin');
    expect(page.url()).toBe(consoleUrl('routes'));
    expect(await page.getByTestId('who').textContent()).toContain('admin (can change)');
    await page.locator(`tr[data-route="${EDITED}"]`).waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).toBe('{}{}');
    await shot(page, 'routes');

    // Signing out revokes the refresh token at identity: it no longer buys an access token.
    const refreshToken = issued.find((b) => b.refresh_token)?.refresh_token;
    expect(refreshToken).toBeTruthy();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with Cloud Stack identity' }).waitFor();
    const refreshed = await fetch(`${stack.identity.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: CLIENT_ID }),
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    await page.close();
  });

  it('refreshes a revoked access token with the rotated refresh token and carries on', async () => {
    const page = await open();
    const issued: { access_token?: string; refresh_token?: string }[] = [];
    page.on('response', (res) => {
      if (res.url() === `${stack.identity.url}/oauth/token` && res.request().method() === 'POST') void res.json().then((b: { refresh_token?: string }) => issued.push(b), () => undefined);
    });
    await signIn(page, 'admin');
    await page.locator(`tr[data-route="${EDITED}"]`).waitFor();
    await expect.poll(() => issued.length, { timeout: TIMEOUT }).toBe(1);
    const first = issued[0]!;
    await stack.identity.revoke(first.access_token!);
    // Once the gateway has heard of the revocation, the console's next call meets a 401.
    await expect
      .poll(async () => (await fetch(`${gateway()}/__gateway/admin/me`, { headers: { authorization: `Bearer ${first.access_token}` } })).status, { timeout: TIMEOUT })
      .toBe(401);
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.getByTestId('policy-revision').waitFor();
    await expect.poll(() => issued.length, { timeout: TIMEOUT }).toBe(2);
    expect(issued[1]!.refresh_token).toBeTruthy();
    expect(issued[1]!.refresh_token).not.toBe(first.refresh_token);
    await page.close();
  });

  it.each(['viewer', 'operator'] as const)('shows the routes to a read-only %s without any way to change them', async (who) => {
    const page = await open();
    await signIn(page, who);
    expect(await page.getByTestId('who').textContent()).toContain(`${who} (read only)`);
    await page.locator(`tr[data-route="${EDITED}"]`).waitFor();
    await page.getByText('Read only: your role can view routes but not change them.').waitFor();
    await page.getByRole('heading', { name: 'Discovery proposals' }).waitFor();
    expect(await page.getByRole('button', { name: CHANGE_BUTTONS }).count()).toBe(0);
    await shot(page, `routes-read-only-${who}`);
    await page.close();
  });

  it('edits a draft, activates it (the gateway then proxies to the new upstream) and rolls it back', async () => {
    const page = await open();
    await signIn(page, 'admin');
    await page.getByRole('button', { name: 'New draft' }).click();
    const draft = page.locator('section.draft-editor');
    await draft.locator(`tr[data-route="${EDITED}"]`).getByRole('button', { name: `Edit ${EDITED}` }).click();
    const upstream = draft.getByLabel('Upstream URL', { exact: true });
    await upstream.fill('not a url');
    await draft.getByRole('button', { name: 'Save to draft' }).click();
    // The gateway's validation message, next to the field it is about.
    const fieldError = draft.locator('.field.invalid').filter({ has: page.getByLabel('Upstream URL', { exact: true }) }).locator('.field-error');
    await fieldError.waitFor();
    expect(await upstream.getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'routes-draft-error');
    await upstream.fill(fresh.url);
    await draft.getByRole('button', { name: 'Save to draft' }).click();
    await draft.locator(`tr[data-route="${EDITED}"]`).getByText(fresh.url).waitFor();

    await draft.getByRole('button', { name: /^Activate draft/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(fresh.url).waitFor();
    expect(await dialog.getByTestId('diff').textContent()).toContain('upstream');
    await shot(page, 'routes-activate-confirm');
    await dialog.getByRole('button', { name: 'Activate' }).click();
    await page.getByText(/is live \(was \d+\)/).waitFor();

    const after = `console-activated-${Date.now()}`;
    expect(await status(after)).toBe(200);
    expect(echoed(fresh, after)).toBe(1);

    await page.getByRole('button', { name: 'Roll back…' }).click();
    await page.getByRole('dialog').getByTestId('diff').getByText(fresh.url).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await page.getByText(/Rolled back: version \d+ is live again/).waitFor();

    const back = `console-rolled-back-${Date.now()}`;
    expect(await status(back)).toBe(200);
    expect(echoed(fresh, back)).toBe(0);
    expect(echoed(stack.upstreams.agents, back)).toBe(1);
    await page.close();
  });

  it('runs route discovery, drops a proposed route and accepts the rest', async () => {
    const page = await open();
    await signIn(page, 'admin');
    await page.getByRole('button', { name: 'Run discovery now' }).click();
    await page.getByText(/Discovery found \d+ operation\(s\) no route covers/).waitFor();
    const proposal = page.locator('article[aria-label^="Proposal version"]').first();
    const items = proposal.getByRole('listitem');
    await items.first().waitFor();
    const before = await items.count();
    const dropped = (await items.first().locator('code').textContent())!;
    await items.first().getByRole('button', { name: 'Drop' }).click();
    await page.getByText(`Dropped ${dropped} from the proposal.`).waitFor();
    await expect.poll(() => items.count(), { timeout: TIMEOUT }).toBe(before - 1);
    await shot(page, 'routes-proposals');
    await proposal.getByRole('button', { name: /^Accept proposal/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`${before - 1} added`, { exact: false }).waitFor();
    await dialog.getByRole('button', { name: 'Activate' }).click();
    await page.getByText(/is live \(was \d+\)/).waitFor();
    await page.getByText('No proposals waiting.').waitFor();
    expect(await page.locator(`tr[data-route="${dropped}"]`).count()).toBe(0);
    await page.close();
  });

  it("shows the policy's governor-only denial with its reason in the playground", async () => {
    const page = await open();
    await signIn(page, 'admin', 'policy');
    await page.getByTestId('policy-revision').waitFor();
    await page.getByLabel('Route', { exact: true }).selectOption('agents.create');
    await page.getByLabel('Subject (JSON)').fill(
      JSON.stringify({ authenticated: true, sub: 'u-1', tenant_id: 'platform', client_id: 'console', roles: ['admin'], is_governor: false, trial_mode: false, agent_id: null }),
    );
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const decision = page.getByTestId('decision');
    await decision.getByText('Denied').waitFor();
    expect(await decision.textContent()).toContain('governor required: this route requires a governor');
    await shot(page, 'policy');
    await page.close();
  });

  it('finds a request by its correlation id, shows its causal chain, pages through a search and exports it', async () => {
    const id = `console-audit-${Date.now()}`;
    expect(await status(id)).toBe(200);
    // Twelve more of the same route, to page through ten at a time.
    const more = Array.from({ length: 12 }, (_, i) => `console-page-${Date.now()}-${i}`);
    for (const m of more) expect(await status(m)).toBe(200);
    await stack.audited([id, ...more]);
    const page = await open();
    await signIn(page, 'admin', 'audit');
    await page.getByLabel('Correlation id').fill(id);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: `Show the chain of ${id}`, exact: true }).click();
    const chain = page.getByRole('list', { name: 'Events in causal order' });
    await chain.getByText(`route ${EDITED}`).first().waitFor();
    expect(await chain.textContent()).toContain('/api/v1/status');
    await shot(page, 'audit');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8');
    expect(csv.split('\n').filter((l) => l.includes(id))).toHaveLength(1);

    await page.getByLabel('Correlation id').fill('');
    await page.getByLabel('Route id').fill(EDITED);
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/page 1, 10 shown/).waitFor();
    // Newest first: the last request made is on top of the first page.
    await page.getByRole('button', { name: `Show the chain of ${more[11]}`, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText(/page 2, \d+ shown/).waitFor();
    await page.getByRole('button', { name: `Show the chain of ${more[1]}`, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText(/page 1, 10 shown/).waitFor();
    await page.close();
  });

  it('names a row modified in SQL after sealing when verifying its time range', async () => {
    const id = `console-tamper-${Date.now()}`;
    expect(await status(id)).toBe(200);
    const [row] = await stack.audited([id]);
    const db = createDb<unknown>(stack.auditDatabaseUrl, { max: 1 });
    try {
      // Seal up to now in one-second intervals (the writer seals hourly), once the event's second has closed.
      await new Promise((r) => setTimeout(r, 1100));
      await sealClosedIntervals(db, await loadDigestSigner(db), { intervalSeconds: 1, graceSeconds: 0 });
      await sql`UPDATE audit_events SET status = 204 WHERE event_id = ${row!.event_id}::uuid`.execute(db);
    } finally {
      await db.destroy();
    }
    const page = await open();
    await signIn(page, 'admin', 'audit');
    await page.getByRole('button', { name: 'Verify' }).click();
    const report = page.getByTestId('verify-report');
    await report.getByText('Tampering found.').waitFor();
    expect(await report.textContent()).toMatch(new RegExp(`modified after they were sealed.*${row!.event_id}`));
    await shot(page, 'audit-verify');
    await page.close();
  });

  it('updates the health view live when an upstream stops, and draws the traffic charts', async () => {
    const page = await open();
    await signIn(page, 'admin', 'health');
    const sandbox = page.locator(`tr[data-upstream="${new URL(stack.upstreams.sandbox.url).origin}"]`);
    await sandbox.getByTestId('upstream-state').getByText('up').waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await shot(page, 'health');
    await stack.upstreams.sandbox.close();
    await sandbox.getByTestId('upstream-state').getByText('down').waitFor();
    await shot(page, 'health-down');
    await page.close();
  });

  it('fits a phone screen', async () => {
    const page = await open(390);
    await signIn(page, 'admin');
    await page.locator(`tr[data-route="${EDITED}"]`).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'routes-phone');
    await page.close();
  });
});
