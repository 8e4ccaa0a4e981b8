/**
 * Two-factor sign-in and sessions in a real browser (issue 16, must show): Debian's Chromium driven by
 * playwright-core against the real platform (identity, intake, contacts on real gRPC and PostgreSQL, the
 * gateway on real HTTP serving the freshly built web/dist).
 *
 * The admin turns on two-factor sign-in on /settings/two-factor (the secret read from the page, codes
 * computed with otpauth here, as an authenticator app would), keeps the recovery codes, signs out, signs in
 * with the password and a code (a wrong code first: refused with a message), then signs in from a second
 * browser with a recovery code. On /settings/sessions the first browser sees both sessions and signs the
 * other one out; the other browser's next navigation lands on the login page. Last, the admin requires
 * two-factor sign-in of admins (/settings/security) and a second admin enrols at their next login.
 *
 * The steps build on each other, so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let browser: Browser;
let first: BrowserContext;
let second: BrowserContext;
let page: Page;
let other: Page;
const pageErrors: string[] = [];
let secret = '';
let recoveryCodes: string[] = [];

/** The code an authenticator app shows `steps` periods from now. */
function codeOf(steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });
}

async function password(p: Page, email = platform.tenants.a.adminEmail, pass = platform.tenants.a.adminPassword): Promise<void> {
  await p.goto(`${platform.base}/login`);
  await p.locator('#login-tenant').fill(platform.tenants.a.slug);
  await p.locator('#login-email').fill(email);
  await p.locator('#login-password').fill(pass);
  await p.getByTestId('login-submit').click();
}

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  first = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 first-browser' });
  second = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, userAgent: 'Mozilla/5.0 (Macintosh) Safari/605.1 second-browser' });
  page = await first.newPage();
  other = await second.newPage();
  for (const p of [page, other]) p.on('pageerror', (err) => pageErrors.push(String(err)));
}, 300_000);

afterAll(async () => {
  await first?.close();
  await second?.close();
  await browser?.close();
  await platform?.stop();
});

describe('two-factor sign-in and sessions (Chromium, real platform)', () => {
  it('turns on two-factor sign-in with a code from the secret on the page and shows the recovery codes once', async () => {
    await password(page);
    await page.waitForURL(/\/requests$/);
    await page.getByTestId('lang-en').click();
    await page.goto(`${platform.base}/settings/two-factor`);
    await page.getByTestId('two-factor-state').waitFor();
    expect(await page.getByTestId('two-factor-state').innerText()).toMatch(/off/);

    await page.getByTestId('totp-begin').click();
    const secretInput = page.getByTestId('totp-secret');
    await secretInput.waitFor();
    secret = (await secretInput.getAttribute('data-secret')) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect((await secretInput.inputValue()).replace(/\s/g, '')).toBe(secret);
    expect(await page.getByTestId('totp-uri').getAttribute('href')).toContain(`secret=${secret}`);
    // The QR code is drawn (a canvas with pixels, not an inline script or a data: URL).
    expect(await page.getByTestId('totp-qr').evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL().length)).toBeGreaterThan(1000);

    // A malformed code is caught in the page; a wrong one is refused by the server next to the field.
    await page.getByTestId('totp-code').fill('12');
    await page.getByTestId('totp-confirm').click();
    expect(await page.locator('#totp-code ~ .field-error').innerText()).toBe('Enter 6 digits.');
    await page.getByTestId('totp-code').fill(String((Number(codeOf()) + 500_000) % 1_000_000).padStart(6, '0'));
    await page.getByTestId('totp-confirm').click();
    await page.locator('#totp-code ~ .field-error[role="alert"]').filter({ hasText: /code/ }).waitFor();

    await page.getByTestId('totp-code').fill(codeOf());
    await page.getByTestId('totp-confirm').click();
    const list = page.getByTestId('recovery-codes');
    await list.waitFor();
    recoveryCodes = (await list.locator('li').allInnerTexts()).map((s) => s.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const c of recoveryCodes) expect(c).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}$/);
    await page.getByTestId('two-factor-state').filter({ hasText: /on/ }).waitFor();
    expect(await page.getByTestId('two-factor-codes-left').innerText()).toContain('10');
    await page.screenshot({ path: join(SHOTS, 'security-two-factor-on.png'), fullPage: true });
    await page.getByTestId('recovery-codes-done').click();
    expect(await page.getByTestId('recovery-codes').count()).toBe(0);
  });

  it('signs out and in again with the password and a code (a wrong code first)', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login/);
    await password(page);
    await page.getByTestId('login-code').waitFor();
    // The code step has no session yet: the app's pages still need a login.
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByTestId('login-code').fill('000000' === codeOf(1) ? '111111' : '000000');
    await page.getByTestId('login-code-submit').click();
    await page.getByTestId('login-error').filter({ hasText: /did not work/ }).waitFor();
    // The enrolment used the current step: the next step's code is the first one a login takes.
    await page.getByTestId('login-code').fill(codeOf(1));
    await page.getByTestId('login-code-submit').click();
    await page.waitForURL(/\/requests$/);
  });

  it('signs in from a second browser with a recovery code', async () => {
    await password(other);
    await other.getByTestId('login-use-recovery').click();
    await other.getByTestId('login-code').fill(recoveryCodes[0].toUpperCase());
    await other.getByTestId('login-code-submit').click();
    await other.waitForURL(/\/requests$/);
  });

  it('lists both sessions and signs the other browser out; its next navigation lands on the login page', async () => {
    await page.goto(`${platform.base}/settings/sessions`);
    const rows = page.getByTestId('session-row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    const current = page.locator('[data-testid="session-row"][data-current="true"]');
    expect(await current.count()).toBe(1);
    expect(await current.locator('[data-testid="session-end"]').count()).toBe(0);
    const theOther = page.locator('[data-testid="session-row"]:not([data-current="true"])');
    expect(await theOther.innerText()).toMatch(/macOS|Safari/i);
    await page.screenshot({ path: join(SHOTS, 'security-sessions.png'), fullPage: true });

    await theOther.getByTestId('session-end').click();
    // A confirm step, if the page asks for one.
    const confirm = theOther.getByTestId('session-end-confirm');
    if (await confirm.count()) await confirm.click();
    await page.locator('[data-testid="session-row"]').nth(1).waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(1);

    await other.goto(`${platform.base}/requests`);
    await other.waitForURL(/\/login/);
    await other.getByTestId('login-form').waitFor();
    // The first browser is still signed in.
    await page.goto(`${platform.base}/requests`);
    await page.waitForURL(/\/requests$/);
  });

  it('requires two-factor sign-in of admins by policy: another admin enrols at login and sees the recovery codes once', async () => {
    await page.goto(`${platform.base}/settings/security`);
    const toggle = page.getByTestId('security-policy-require');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page.getByTestId('security-policy-saved').waitFor();

    const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
    const email = `second.admin.${Date.now().toString(36)}@a.test`;
    await identity.createUser({ email, displayName: 'Second Admin', password: 'second admin password', roles: [Role.ROLE_ADMIN] }, { tenantId: platform.tenants.a.id, callerId: 'test', callerKind: 'service' });
    identity.close();

    const third = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    try {
      const p = await third.newPage();
      p.on('pageerror', (err) => pageErrors.push(String(err)));
      await password(p, email, 'second admin password');
      await p.getByTestId('login-enroll-start').click();
      const key = p.getByTestId('totp-secret');
      await key.waitFor();
      const theirs = (await key.getAttribute('data-secret')) ?? '';
      const code = new TOTP({ secret: Secret.fromBase32(theirs), algorithm: 'SHA1', digits: 6, period: 30 }).generate();
      await p.getByTestId('login-code').fill(code);
      await p.getByTestId('login-code-submit').click();
      const codes = p.getByTestId('recovery-codes');
      await codes.waitFor();
      expect(await codes.locator('li').count()).toBe(10);
      await p.screenshot({ path: join(SHOTS, 'security-enrol-at-login.png'), fullPage: true });
      await p.getByTestId('login-continue').click();
      await p.waitForURL(/\/requests$/);
      await p.goto(`${platform.base}/settings/two-factor`);
      await p.getByTestId('two-factor-required').waitFor();
      expect(await p.getByTestId('two-factor-disable').count()).toBe(0);
    } finally {
      await third.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
