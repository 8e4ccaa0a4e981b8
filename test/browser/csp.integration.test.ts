/**
 * The web UI under its Content-Security-Policy in a real browser (Debian's Chromium via playwright-core,
 * the real platform, the freshly built web/dist): the login page, then logged in the request journal and
 * a settings page, /docs (Swagger UI) and the demo form (its hashed inline script submits a request) all
 * load and work with the CSP header present, and the browser reports no CSP violation (listened to with
 * `securitypolicyviolation` from an init script) and no console error.
 */
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Everything the browser complained about, with the page it was on. */
const problems: string[] = [];

beforeAll(async () => {
  buildUi();
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'en-US' });
  // Before any script of the page: every violation, reported to the test through the console.
  await context.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));",
  );
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    // Signed out, the login page asks who is signed in: Chromium logs that expected 401 as an error.
    if (/\/login$/.test(page.url()) && m.text().startsWith('Failed to load resource: the server responded with a status of 401')) return;
    problems.push(`${page.url()}: ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: page error: ${String(err)}`));
}, 300_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

function expectCsp(res: Response | null): string {
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  return csp;
}

describe('the web UI under its CSP (Chromium, real platform)', () => {
  it('loads the login page, then the journal and a settings page, with no violation', async () => {
    const { a } = platform.tenants;
    const login = await page.goto(`${platform.base}/login`);
    expect(expectCsp(login)).toContain("script-src 'self';");
    await page.getByLabel('Company (code)').fill(a.slug);
    await page.getByLabel('E-mail').fill(a.adminEmail);
    await page.getByLabel('Password').fill(a.adminPassword);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/requests$/);
    await page.locator('h1').first().waitFor();

    expectCsp(await page.goto(`${platform.base}/settings/departments`));
    await page.getByTestId('department-new').waitFor();
    expect(problems).toEqual([]);
  });

  it('/docs (Swagger UI) renders the document under its own policy', async () => {
    expectCsp(await page.goto(`${platform.base}/docs`));
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(problems).toEqual([]);
  });

  it('the demo form: its inline script runs (allowed by hash) and submits a request', async () => {
    expectCsp(await page.goto(`${platform.base}/demo/form?form=${platform.tenants.a.formId}`));
    await page.locator('#phone').fill('+79161234567');
    await page.locator('#name').fill('CSP demo');
    await page.locator('button[type=submit]').click();
    await page.getByText('Спасибо! Мы свяжемся с вами.').waitFor();
    expect(problems).toEqual([]);
  });
});
