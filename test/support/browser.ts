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
