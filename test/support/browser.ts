/**
 * What every browser test (test/browser/*.integration.test.ts) shares: Debian's Chromium and its flags,
 * the screenshots folder and a fresh build of the web UI.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const WEB = join(ROOT, 'web');
export const SHOTS = join(ROOT, '.run/screenshots');
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Builds the UI (a clean Vite build takes a few seconds), so a test never runs against a stale web/dist. */
export function buildUi(): void {
  const vite = join(dirname(require.resolve('vite/package.json', { paths: [WEB] })), 'bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: WEB, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The page's `document` as a predicate passed to page.waitForFunction sees it (the tests compile without
 * the DOM library). A predicate must be a function, not a string: the UI's CSP has no 'unsafe-eval'.
 */
export interface PageGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }> };
}

/** The part of a Playwright Locator / Page the helpers below use (the tests compile without the DOM library). */
interface Waitable {
  waitFor(opts: { timeout: number }): Promise<unknown>;
}
interface LoginPage {
  goto(url: string): Promise<unknown>;
  getByLabel(text: string): { fill(value: string): Promise<unknown> };
  getByTestId(id: string): { click(): Promise<unknown> };
  waitForURL(url: RegExp): Promise<unknown>;
}

/** Waits for `target`, calling `retry` (a reload, a "Refresh") every second until it shows or `withinMs` pass. */
export async function untilVisible(target: Waitable, retry: () => Promise<unknown>, withinMs = 20_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await target.waitFor({ timeout: 1_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await retry();
    }
  }
}

/** `POST /v1/requests` with an API key; the created request's id (anything but a 201 throws). */
export async function createRequest(base: string, apiKey: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create request: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Logs in on the login page (English labels) and waits for the journal. */
export async function logIn(page: LoginPage, base: string, who: { slug: string; email: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Company (code)').fill(who.slug);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/requests$/);
}
