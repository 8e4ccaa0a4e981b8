/**
 * Team settings in a real browser: Debian's Chromium driven by playwright-core against the real platform
 * (identity, intake, contacts on real gRPC and PostgreSQL, the gateway on real HTTP serving the freshly
 * built web/dist).
 *
 * The admin creates the Sales department, invites a seller into it and copies the invite link; in a fresh
 * browser context (no cookie) the invitee opens the link, sets a password and logs in. The admin then sets
 * the Sales schedule (an inverted interval is refused with the server's message next to that interval,
 * then fixed), adds a shift for the seller, marks them away, creates an API key (its secret works) and
 * revokes it (the secret no longer does), disables the public form (its endpoint then refuses
 * submissions), and finds all of it in the audit log. A half-filled invite survives a reload; the
 * seller sees the team read-only and no admin sections.
 *
 * The steps build on each other (one admin page, logged in once), so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import type { PageGlobals } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const tag = Date.now().toString(36);
const sellerEmail = `seller.${tag}@a.test`;
const sellerName = `Мария Продавец ${tag}`;
const sellerPassword = 'seller password 123';
const department = `Sales ${tag}`;
let inviteUrl = '';
let departmentId = '';
let sellerId = '';

async function json(method: string, path: string, auth: { key?: string }, body?: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${platform.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function loginAs(p: Page, tenant: string | null, email: string, password: string): Promise<void> {
  await p.goto(`${platform.base}/login`);
  if (tenant !== null) await p.getByLabel('Company (code)').fill(tenant);
  await p.getByLabel('E-mail').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
  await p.waitForURL(/\/requests$/);
}

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: platform.base });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  // Building the UI and starting every service takes a while on a busy machine.
}, 300_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe('team settings UI (Chromium, real platform)', () => {
  it('logs the admin in and creates the Sales department', async () => {
    const { a } = platform.tenants;
    await loginAs(page, a.slug, a.adminEmail, a.adminPassword);
    await page.getByTestId('lang-en').click();
    await page.goto(`${platform.base}/settings`);
    await page.getByTestId('settings-link-departments').click();
    await page.waitForURL(/\/settings\/departments$/);
    expect(await page.locator('h1').first().textContent()).toBe('Departments');

    await page.getByTestId('department-new').click();
    await page.getByTestId('department-name').fill(department);
    await page.getByTestId('department-kind').selectOption('sales');
    await page.getByTestId('department-sla').fill('20');
    await page.getByTestId('department-create').click();
    const row = page.getByTestId('department-row').filter({ hasText: department });
    await row.waitFor();
    expect(await row.innerText()).toContain('20 min');
    departmentId = (await row.getAttribute('data-id')) ?? '';
    expect(departmentId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a half-filled invite across a reload, then invites the seller into Sales and copies the link', async () => {
    await page.goto(`${platform.base}/settings/team`);
    await page.getByTestId('invite-open').click();
    await page.getByTestId('invite-email').fill(sellerEmail);
    await page.getByTestId('invite-name').fill(sellerName);
    await page.reload();
    // The draft reopens the form with what was typed.
    await page.getByTestId('invite-form').waitFor();
    expect(await page.getByTestId('invite-email').inputValue()).toBe(sellerEmail);
    expect(await page.getByTestId('invite-name').inputValue()).toBe(sellerName);

    await page.getByTestId('invite-departments').getByLabel(department).check();
    expect(await page.getByTestId('invite-roles').getByLabel('Seller').isChecked()).toBe(true);
    await page.getByTestId('invite-submit').click();
    await page.getByTestId('invite-link-box').waitFor();
    inviteUrl = await page.getByTestId('invite-link').inputValue();
    expect(inviteUrl).toMatch(new RegExp(`^${platform.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/invite/[A-Za-z0-9_-]{20,}$`));
    await page.getByTestId('invite-copy').click();
    await page.getByTestId('invite-copy').filter({ hasText: 'Copied' }).waitFor();
    // (Run in the page; the tests compile without the DOM's types.)
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(inviteUrl);

    const row = page.getByTestId('team-row').filter({ hasText: sellerEmail });
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('invited');
    expect(await row.innerText()).toContain(department);
    sellerId = (await row.getAttribute('data-id')) ?? '';
    await page.screenshot({ path: join(SHOTS, 'settings-invite.png'), fullPage: true });
  });

  it('lets the invitee accept the invite logged out (a fresh context), set a password and log in', async () => {
    const fresh = await browser.newContext({ locale: 'en-US' });
    try {
      const p = await fresh.newPage();
      const errors: string[] = [];
      p.on('pageerror', (err) => errors.push(String(err)));
      await p.goto(inviteUrl);
      await p.getByTestId('invite-page').waitFor();
      expect(p.url()).toBe(inviteUrl);
      // The tenant speaks Russian; the invitee picks English (remembered in this context).
      await p.getByTestId('lang-en').click();
      expect(await p.locator('h1').textContent()).toBe('Join the team');
      // Too short first: refused in the page, nothing sent.
      await p.getByTestId('invite-password').fill('short');
      await p.getByTestId('invite-repeat').fill('short');
      await p.getByTestId('invite-accept').click();
      expect(await p.getByTestId('invite-local-error').textContent()).toContain('8 to 200');
      await p.getByTestId('invite-password').fill(sellerPassword);
      await p.getByTestId('invite-repeat').fill(sellerPassword);
      await p.getByTestId('invite-accept').click();
      await p.getByTestId('invite-accepted').waitFor();
      expect(await p.getByTestId('invite-tenant').textContent()).toBe(platform.tenants.a.slug);
      await p.getByTestId('invite-login').click();
      await p.waitForURL(/\/login$/);
      // The company code is remembered from the invite.
      expect(await p.getByLabel('Company (code)').inputValue()).toBe(platform.tenants.a.slug);
      await loginAs(p, null, sellerEmail, sellerPassword);

      // A seller sees the team read-only and no admin sections.
      await p.goto(`${platform.base}/settings/team`);
      await p.getByTestId('team-row').filter({ hasText: sellerEmail }).waitFor();
      expect(await p.getByTestId('invite-open').count()).toBe(0);
      expect(await p.getByTestId('user-edit').count()).toBe(0);
      expect(await p.getByTestId('tab-settings-api-keys').count()).toBe(0);
      await p.goto(`${platform.base}/settings/api-keys`);
      await p.getByTestId('settings-not-allowed').waitFor();
      expect(await p.getByTestId('api-keys-table').count()).toBe(0);
      expect(errors).toEqual([]);

      // The link is used up.
      await p.goto(inviteUrl);
      await p.getByTestId('invite-page').waitFor();
      await p.getByTestId('invite-password').fill(sellerPassword);
      await p.getByTestId('invite-repeat').fill(sellerPassword);
      await p.getByTestId('invite-accept').click();
      expect(await p.getByTestId('invite-error').textContent()).toContain('unknown, already used or expired');
    } finally {
      await fresh.close();
    }
    await page.goto(`${platform.base}/settings/team`);
    const row = page.getByTestId('team-row').filter({ hasText: sellerEmail });
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('active');
  });

  it("sets the Sales schedule: an inverted interval is refused with the server's message next to it, then fixed", async () => {
    await page.goto(`${platform.base}/settings/departments/${departmentId}`);
    await page.getByTestId('schedule-editor').waitFor();
    const monday = page.locator('[data-testid="schedule-day"][data-weekday="1"]');
    const tuesday = page.locator('[data-testid="schedule-day"][data-weekday="2"]');
    await monday.getByTestId('interval-add').click();
    await tuesday.getByTestId('interval-add').click();
    await tuesday.getByTestId('interval-add').click();
    // Tuesday's second interval (index 2 of what is sent) runs backwards.
    const bad = tuesday.getByTestId('schedule-interval').nth(1);
    await bad.getByTestId('interval-from').fill('19:00');
    await bad.getByTestId('interval-to').fill('10:00');
    await page.getByTestId('schedule-save').click();
    const message = bad.getByTestId('interval-error');
    await message.waitFor();
    expect(await bad.getAttribute('data-index')).toBe('2');
    // The server's own words, naming the bad value.
    expect(await message.textContent()).toContain('10:00');
    // Only that interval is marked.
    expect(await page.getByTestId('interval-error').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'settings-schedule-error.png'), fullPage: true });

    await bad.getByTestId('interval-from').fill('19:00');
    await bad.getByTestId('interval-to').fill('21:00');
    await page.getByTestId('holiday-input').fill('2027-01-07');
    await page.getByTestId('holiday-add').click();
    await page.getByTestId('schedule-save').click();
    await page.getByTestId('schedule-saved').waitFor();
    expect(await page.getByTestId('interval-error').count()).toBe(0);

    // What the server stored, read back.
    await page.reload();
    await page.getByTestId('schedule-editor').waitFor();
    expect(await page.getByTestId('schedule-interval').count()).toBe(3);
    expect(await tuesday.getByTestId('schedule-interval').nth(1).getByTestId('interval-to').inputValue()).toBe('21:00');
    expect(await page.getByTestId('holiday').allTextContents()).toEqual([expect.stringContaining('2027-01-07')]);
    expect(await page.getByTestId('department-members').innerText()).toContain(sellerName);
  });

  it('adds a shift for the seller in the week view', async () => {
    await page.goto(`${platform.base}/settings/shifts?department=${departmentId}`);
    await page.getByTestId('shift-form').waitFor();
    await page.getByTestId('shift-user-select').selectOption(sellerId);
    await page.getByTestId('shift-from').fill('09:00');
    await page.getByTestId('shift-to').fill('17:30');
    await page.getByTestId('shift-add').click();
    const row = page.locator(`[data-testid="shift-user"][data-id="${sellerId}"]`);
    await row.getByTestId('shift').filter({ hasText: '09:00–17:30' }).waitFor();
    // Read back from the server.
    await page.reload();
    await row.getByTestId('shift').filter({ hasText: '09:00–17:30' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'settings-shifts.png'), fullPage: true });
  });

  it('marks the seller away', async () => {
    await page.goto(`${platform.base}/settings/team`);
    const row = page.getByTestId('team-row').filter({ hasText: sellerEmail });
    await row.waitFor();
    expect(await row.getAttribute('data-away')).toBe('false');
    await row.getByTestId('user-away-open').click();
    await row.getByTestId('user-away-save').click();
    await row.getByTestId('user-away').waitFor();
    expect(await row.getAttribute('data-away')).toBe('true');
    await page.reload();
    expect(await page.getByTestId('team-row').filter({ hasText: sellerEmail }).getAttribute('data-away')).toBe('true');
  });

  it('creates an API key (its secret shown once works) and revokes it (then it does not)', async () => {
    await page.goto(`${platform.base}/settings/api-keys`);
    await page.getByTestId('api-key-new').click();
    await page.getByTestId('api-key-name').fill(`CRM sync ${tag}`);
    await page.getByTestId('api-key-create').click();
    await page.getByTestId('api-key-secret-box').waitFor();
    const secret = await page.getByTestId('api-key-secret').inputValue();
    expect(secret).toMatch(/^crm_[A-Za-z0-9]{8}_/);
    expect((await json('GET', '/v1/requests', { key: secret })).status).toBe(200);

    const row = page.getByTestId('api-key-row').filter({ hasText: `CRM sync ${tag}` });
    await row.waitFor();
    expect(await row.innerText()).toContain(secret.slice(4, 12));
    expect(await row.innerText()).not.toContain(secret);
    await row.getByTestId('api-key-revoke').click();
    await row.getByTestId('api-key-revoke-confirm').click();
    await row.getByTestId('api-key-revoked').waitFor();
    expect(await row.getAttribute('data-revoked')).toBe('true');
    // The platform's gateway caches no credential (AUTH_CACHE_TTL_MS=0); the loop only tolerates a slow revoke.
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await json('GET', '/v1/requests', { key: secret })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(401);
  });

  it('disables the public form: its endpoint refuses submissions', async () => {
    const { a } = platform.tenants;
    const submit = () => json('POST', `/v1/forms/${a.formId}/submissions`, {}, { name: `Form ${tag}`, phone: '+7 999 111-22-33' });
    expect((await submit()).status).toBeLessThan(300);
    await page.goto(`${platform.base}/settings/forms`);
    const row = page.locator(`[data-testid="form-row"][data-id="${a.formId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-enabled')).toBe('true');
    await row.getByTestId('form-edit').click();
    expect(await row.getByTestId('form-snippet').textContent()).toContain(`/v1/forms/${a.formId}/submissions`);
    await row.getByTestId('form-disable').click();
    await page.locator(`[data-testid="form-row"][data-id="${a.formId}"][data-enabled="false"]`).waitFor();
    expect(await row.getByTestId('form-state').textContent()).toBe('Disabled');
    expect((await submit()).status).toBe(404);
  });

  it('shows every change in the audit log, filtered by target kind', async () => {
    await page.goto(`${platform.base}/settings/audit`);
    await page.getByTestId('audit-row').first().waitFor();
    const actions = async () => page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    const all = await actions();
    for (const a of ['department.created', 'user.invited', 'user.invite_accepted', 'department.schedule_set', 'shift.added', 'user.away_set', 'api_key.created', 'api_key.revoked', 'public_form.disabled'])
      expect(all).toContain(a);
    await page.getByTestId('audit-target').selectOption('api_key');
    await page.waitForURL(/target=api_key/);
    // The filtered page replaces the whole list (the server filters; rows of other kinds go away).
    await page.waitForFunction(
      () => {
        const rows = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="audit-row"]'));
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-target-kind') === 'api_key');
      },
      undefined,
      { timeout: 15_000 },
    );
    await page.locator('[data-testid="audit-row"][data-action="api_key.revoked"]').waitFor();
    const keyRows = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-target-kind')));
    expect(new Set(keyRows)).toEqual(new Set(['api_key']));
    await page.screenshot({ path: join(SHOTS, 'settings-audit.png'), fullPage: true });
  });

  it('shows the settings in Russian', async () => {
    await page.getByTestId('lang-ru').click();
    try {
      expect(await page.locator('h1').first().textContent()).toBe('Журнал изменений');
      expect(await page.getByTestId('tab-settings-team').textContent()).toBe('Сотрудники');
      await page.getByTestId('tab-settings-team').click();
      await page.waitForURL(/\/settings\/team$/);
      expect(await page.getByTestId('team-row').filter({ hasText: sellerEmail }).getByTestId('user-status').textContent()).toBe('Активен');
    } finally {
      await page.getByTestId('lang-en').click();
    }
    expect(pageErrors).toEqual([]);
  });
});
