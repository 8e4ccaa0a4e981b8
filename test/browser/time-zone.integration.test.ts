/**
 * The tenant's time zone in the web UI, in Debian's Chromium against the real platform (identity,
 * intake, reporting on ClickHouse, the gateway serving the freshly built web/dist). The browser itself
 * runs in New York time, so a time shown in Moscow time can only come from the tenant's zone: the admin
 * sets Europe/Moscow on the settings page, then the journal, the request page and its comments show
 * Moscow wall-clock times, and the report counts Moscow days.
 *
 * The steps build on each other (one browser page, logged in once), so they run in order.
 */
import type { RunningReporting } from '@crm/reporting/src/app';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import { reportRequestRow, startPlatform, type Platform } from '../support/platform';

/** The browser's own zone: neither UTC nor Moscow, and 7–8 hours away from Moscow. */
const BROWSER_ZONE = 'America/New_York';

let reporting: RunningReporting;
let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** `dd.MM.yyyy HH:mm` of an instant in a zone, written with plain Intl (not the UI's code). */
function wallClock(iso: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.day}.${parts.month}.${parts.year} ${parts.hour}:${parts.minute}`;
}

/** `HH:mm` of an instant in a zone. */
const hhmm = (iso: string, timeZone: string) => wallClock(iso, timeZone).slice(-5);

async function apiPost<T>(path: string, apiKey: string, body: unknown): Promise<T> {
  const res = await fetch(`${platform.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const tag = Date.now().toString(36);
const name = `Московский ${tag}`;
let created: { id: string; created_at: string };

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist'), reporting: true });
  reporting = platform.reporting!;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'ru-RU', timezoneId: BROWSER_ZONE, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  const { a } = platform.tenants;
  created = await apiPost('/v1/requests', a.apiKey, { channel: 'phone', name, phone: '+79990003344' });
  await apiPost(`/v1/requests/${created.id}/comments`, a.apiKey, { text: 'Перезвонить' });
  // 23:30 and 00:30 Moscow time on the night of March 1st → 2nd.
  await reporting.clickhouse.insert('requests', [reportRequestRow(a.id, '2026-03-01T20:30:00Z', 'phone'), reportRequestRow(a.id, '2026-03-01T21:30:00Z', 'phone')]);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe("the tenant's time zone in the web UI (Chromium in New York time)", () => {
  it('logs in; a tenant without a zone shows UTC times', async () => {
    const { a } = platform.tenants;
    await page.goto(`${platform.base}/login`);
    // A Russian browser: the login page is Russian.
    await page.getByLabel('Компания (код)').fill(a.slug);
    await page.getByLabel('E-mail').fill(a.adminEmail);
    await page.getByLabel('Пароль').fill(a.adminPassword);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/requests$/);
    const cell = page.getByTestId('request-row').filter({ hasText: name }).locator('time');
    await cell.waitFor();
    expect((await page.getByTestId('time-zone').textContent())?.trim()).toBe('UTC');
    expect((await cell.textContent())?.trim()).toBe(wallClock(created.created_at, 'UTC'));
  });

  it('lets the admin set Europe/Moscow on the settings page', async () => {
    await page.getByTestId('nav-settings').click();
    await page.waitForURL(/\/settings$/);
    const select = page.getByTestId('settings-time-zone');
    await select.and(page.locator(':enabled')).waitFor();
    expect(await select.inputValue()).toBe('UTC');
    await select.selectOption('Europe/Moscow');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('settings-saved').waitFor();
    expect(await page.getByTestId('settings-saved').textContent()).toContain('Europe/Moscow');
    expect((await page.getByTestId('time-zone').textContent())?.trim()).toBe('Europe/Moscow');
    await page.screenshot({ path: join(SHOTS, 'settings-time-zone.png') });
  });

  it('shows the journal, the request page and its comments in Moscow time, not the browser’s', async () => {
    await page.getByRole('link', { name: 'Журнал обращений' }).first().click();
    await page.waitForURL(/\/requests$/);
    const cell = page.getByTestId('request-row').filter({ hasText: name }).locator('time');
    await cell.waitFor();
    const moscow = wallClock(created.created_at, 'Europe/Moscow');
    expect(moscow).not.toBe(wallClock(created.created_at, BROWSER_ZONE));
    expect((await cell.textContent())?.trim()).toBe(moscow);
    expect(await cell.getAttribute('datetime')).toBe(created.created_at); // the machine-readable value stays UTC
    // The header says which zone the times are in.
    expect(await page.getByTestId('time-zone').getAttribute('title')).toContain('Europe/Moscow (GMT+3)');

    await page.getByTestId('request-row').filter({ hasText: name }).click();
    await page.waitForURL(new RegExp(`/requests/${created.id}$`));
    await page.getByTestId('comment').first().waitFor();
    expect(await page.getByTestId('field-created').locator('time').textContent()).toContain(hhmm(created.created_at, 'Europe/Moscow'));
    const commentTime = page.getByTestId('comment').first().locator('time');
    const commentIso = (await commentTime.getAttribute('datetime'))!;
    expect(await commentTime.textContent()).toContain(hhmm(commentIso, 'Europe/Moscow'));
    expect(await commentTime.textContent()).not.toContain(hhmm(commentIso, BROWSER_ZONE));
  });

  it('counts report days in Moscow time: 23:30 and 00:30 are two days', async () => {
    await page.getByTestId('nav-reports').click();
    await page.waitForURL(/\/reports$/);
    await page.getByTestId('report-from').fill('2026-03-01');
    await page.getByTestId('report-to').fill('2026-03-02');
    await page.locator('[data-testid="report-row"][data-day="2026-03-02"]').waitFor();
    // Page-side code is given as a string: this file is type-checked for Node, without the DOM's types.
    const rows = await page.evaluate<string[][]>(
      `[...document.querySelectorAll('[data-testid="report-row"]')].map((e) => [e.getAttribute('data-day'), e.querySelector('[data-testid="report-total"]').textContent])`,
    );
    expect(rows).toEqual([
      ['2026-03-01', '1'],
      ['2026-03-02', '1'],
    ]);
    expect(await page.getByTestId('report-zone').textContent()).toContain('Europe/Moscow');
    await page.screenshot({ path: join(SHOTS, 'report-time-zone.png') });
    expect(pageErrors).toEqual([]);
  });
});
