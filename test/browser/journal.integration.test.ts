/**
 * The seller's web UI in a real browser: Debian's Chromium driven by playwright-core, against the real
 * platform (identity + intake on real gRPC and PostgreSQL, the gateway on real HTTP serving the freshly
 * built web/dist, the live feed reading real Kafka). Two tenants; everything is looked at through
 * tenant A's seller UI while requests arrive through the public API.
 *
 * The steps build on each other (one browser page, logged in once), so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import type { PageGlobals } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

/** How long the UI may take to show something that travels API → intake → outbox → Kafka → gateway → SSE. */
const LIVE_MS = 20_000;

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

interface CreatedRequest {
  id: string;
  name: string;
  axes: { number: string };
}

async function createRequest(apiKey: string, body: Record<string, unknown>): Promise<CreatedRequest> {
  const res = await fetch(`${platform.base}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create request: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedRequest;
}

async function addCommentViaApi(apiKey: string, requestId: string, text: string): Promise<void> {
  const res = await fetch(`${platform.base}/v1/requests/${requestId}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  if (res.status !== 201) throw new Error(`add comment: ${res.status} ${await res.text()}`);
}

const row = (name: string) => page.getByTestId('request-row').filter({ hasText: name });
const text = async (testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').trim();
const heading = () => page.locator('h1').first();
// Page-side code is given as strings: this file is type-checked for Node, without the DOM's types.
const htmlLang = () => page.evaluate<string>('document.documentElement.lang');
/** Set once on the journal; it survives only if the page is never reloaded. */
const setMarker = () => page.evaluate('window.__journalMarker = "still here"');
const marker = () => page.evaluate<string | undefined>('window.__journalMarker');
const waitForRows = (n: number) =>
  page.waitForFunction((count) => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="request-row"]').length === count, n);

// Unique per run, so a leftover from another run could never satisfy an assertion.
const tag = Date.now().toString(36);
const seeded = { name: `Ранний ${tag}` };
const live = { name: `Живой ${tag}` };
const secretOfB = { name: `Чужой ${tag}` };
let seededReq: CreatedRequest;
let liveReq: CreatedRequest;
let requestOfB: CreatedRequest;

beforeAll(async () => {
  const started = Date.now();
  buildUi();
  const buildMs = Date.now() - started;
  if (buildMs > 15_000) console.warn(`the UI build took ${buildMs} ms`);
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  // An English browser: the login page is English; after login the tenant's locale (ru) applies.
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  const { a, b } = platform.tenants;
  seededReq = await createRequest(a.apiKey, { channel: 'phone', name: seeded.name, phone: '+79990001122', attribution: { utm_source: 'google' } });
  requestOfB = await createRequest(b.apiKey, { channel: 'web_form', name: secretOfB.name, email: 'b@example.com' });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe('the seller web UI (Chromium, real platform)', () => {
  it('sends an anonymous visitor to the login page, in the browser language, and rejects a wrong password', async () => {
    await page.goto(`${platform.base}/requests`);
    await page.waitForURL(/\/login\?next=%2Frequests$/);
    expect(await heading().textContent()).toBe('Log in');
    expect(await htmlLang()).toBe('en');

    const { a } = platform.tenants;
    await page.getByLabel('Company (code)').fill(a.slug);
    await page.getByLabel('E-mail').fill(a.adminEmail);
    await page.getByLabel('Password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    expect(await text('login-error')).toBe('Wrong tenant, e-mail or password');
    await page.screenshot({ path: join(SHOTS, 'login.png') });
  });

  it("logs tenant A's admin in and shows the journal in the tenant's language (Russian), without tenant B's requests", async () => {
    const { a } = platform.tenants;
    await page.getByLabel('Password').fill(a.adminPassword);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/requests$/);
    await row(seeded.name).waitFor();

    expect(await heading().textContent()).toBe('Журнал обращений');
    expect(await text('user-name')).toBe('Admin A');
    expect(await text('tenant')).toContain(a.slug);
    const cells = await row(seeded.name).locator('td').allTextContents();
    expect(cells).toEqual(expect.arrayContaining(['Телефон', '+79990001122', 'Новое', 'Первичное', 'google', '0']));
    expect(await page.getByText(secretOfB.name).count()).toBe(0);
  });

  it('shows a request submitted through the API at the top of the open journal without a reload, and follows comment counts', async () => {
    await page.getByTestId('live-status').and(page.locator('[data-status="open"]')).waitFor({ timeout: LIVE_MS });
    await setMarker();

    const { a, b } = platform.tenants;
    // Tenant B's request is made first: if it leaked into A's stream it would show before A's.
    await createRequest(b.apiKey, { channel: 'chat', name: `${secretOfB.name} 2` });
    liveReq = await createRequest(a.apiKey, {
      channel: 'web_form',
      name: live.name,
      phone: '+79995556677',
      email: 'live@example.com',
      message: 'Перезвоните, пожалуйста,\nпосле 18:00',
      attribution: {
        utm_source: 'yandex',
        utm_medium: 'cpc',
        utm_campaign: 'spring_sale',
        utm_content: 'banner_1',
        utm_term: 'crm для продаж',
        landing_page: 'https://example.com/landing?x=1',
        referrer: 'https://ya.ru/search',
      },
    });
    await row(live.name).waitFor({ timeout: LIVE_MS });

    const first = page.getByTestId('request-row').first();
    expect(await first.getAttribute('data-id')).toBe(liveReq.id);
    expect(await marker()).toBe('still here');
    expect(await page.getByText(secretOfB.name).count()).toBe(0);
    expect(await page.getByTestId('request-row').count()).toBe(2);

    await addCommentViaApi(a.apiKey, seededReq.id, 'комментарий из API');
    await row(seeded.name).getByTestId('comment-count').filter({ hasText: '1' }).waitFor({ timeout: LIVE_MS });
    expect(await marker()).toBe('still here');

    await page.screenshot({ path: join(SHOTS, 'journal.png'), fullPage: true });
  });

  it('filters the journal by text search and by channel', async () => {
    await page.getByTestId('filter-q').fill('Живой');
    await page.waitForURL(/q=/);
    await waitForRows(1);
    expect(await page.getByTestId('request-row').first().getAttribute('data-id')).toBe(liveReq.id);
    await page.getByTestId('filter-reset').click();
    await waitForRows(2);

    await page.getByTestId('filter-channel').locator('summary').click();
    await page.getByTestId('filter-channel').getByLabel('Телефон').check();
    await page.waitForURL(/channel=phone/);
    await waitForRows(1);
    await page.screenshot({ path: join(SHOTS, 'journal-filter.png') });
    expect(await page.getByTestId('request-row').first().getAttribute('data-id')).toBe(seededReq.id);
    await page.getByTestId('filter-reset').click();
    await waitForRows(2);
  });

  it('opens the request page with its axes, contact, message and attribution', async () => {
    await row(live.name).locator('td').first().click();
    await page.waitForURL(new RegExp(`/requests/${liveReq.id}$`));
    await page.getByTestId('request-page').waitFor();
    expect(await marker()).toBe('still here');

    expect(await heading().textContent()).toBe(live.name);
    const axes = await page.getByTestId('request-axes').innerText();
    for (const s of ['По первичности', 'Первичное', 'По смыслу', 'Не определён', 'По контакту', 'Не подтверждён', 'По квалификации', 'Ожидает квалификации', 'По каналу', 'Веб-форма']) {
      expect(axes).toContain(s);
    }
    expect(await text('request-state')).toContain('Новое');
    expect(await page.getByTestId('field-phone').innerText()).toContain('+79995556677');
    expect(await page.getByTestId('field-email').innerText()).toContain('live@example.com');
    expect(await page.getByTestId('request-message').innerText()).toBe('Перезвоните, пожалуйста,\nпосле 18:00');
    const attribution = await page.getByTestId('request-attribution').innerText();
    for (const s of ['yandex', 'cpc', 'spring_sale', 'banner_1', 'crm для продаж', 'https://example.com/landing?x=1', 'https://ya.ru/search']) {
      expect(attribution).toContain(s);
    }
    expect(await page.getByTestId('comments-empty').innerText()).toBe('Комментариев пока нет');
  });

  it('validates and adds a comment, which appears without a reload', async () => {
    await page.getByTestId('comment-submit').click();
    expect(await text('comment-invalid')).toBe('Введите текст комментария');
    await page.getByTestId('comment-text').fill('x'.repeat(4001));
    await page.getByTestId('comment-submit').click();
    expect(await text('comment-invalid')).toBe('Не более 4000 символов (сейчас 4001)');
    expect(await page.getByTestId('comment').count()).toBe(0);

    await page.getByTestId('comment-text').fill('Перезвонил, ждёт КП');
    await page.getByTestId('comment-submit').click();
    await page.getByTestId('comment').filter({ hasText: 'Перезвонил, ждёт КП' }).waitFor();
    expect(await page.getByTestId('comment').first().innerText()).toContain('Вы');
    expect(await text('comments-count')).toBe('1');
    expect(await page.getByTestId('comment-text').inputValue()).toBe('');

    // A colleague's comment (through the API) arrives through the live feed.
    await addCommentViaApi(platform.tenants.a.apiKey, liveReq.id, 'Коллега: КП отправлено');
    await page.getByTestId('comment').filter({ hasText: 'Коллега: КП отправлено' }).waitFor({ timeout: LIVE_MS });
    expect(await page.getByTestId('comment').allInnerTexts()).toEqual([expect.stringContaining('Перезвонил, ждёт КП'), expect.stringContaining('Коллега: КП отправлено')]);
    expect(await marker()).toBe('still here');

    await page.screenshot({ path: join(SHOTS, 'request.png'), fullPage: true });
  });

  it('switches the language to English and back, and remembers the choice', async () => {
    await page.getByTestId('lang-en').click();
    expect(await page.locator('#axes-title').textContent()).toBe('Classification');
    const axes = await page.getByTestId('request-axes').innerText();
    for (const s of ['Primary / repeat', 'Primary', 'Meaning', 'Unknown', 'Contact', 'Unverified', 'Qualification', 'Pending', 'Web form']) expect(axes).toContain(s);
    expect(await page.locator('#comments-title').innerText()).toContain('Comments');
    expect(await page.getByTestId('logout').textContent()).toBe('Log out');
    await page.screenshot({ path: join(SHOTS, 'request-en.png'), fullPage: true });

    await page.reload();
    await page.getByTestId('request-page').waitFor();
    expect(await page.locator('#axes-title').textContent()).toBe('Classification');

    await page.getByText('← Back to the journal').click();
    await row(live.name).waitFor();
    expect(await heading().textContent()).toBe('Request journal');
    expect(await row(live.name).locator('td').allTextContents()).toEqual(expect.arrayContaining(['Web form', 'New', 'Primary', 'yandex']));

    await page.getByTestId('lang-ru').click();
    expect(await heading().textContent()).toBe('Журнал обращений');
    expect(await htmlLang()).toBe('ru');
  });

  it("shows tenant B's request id as not found in tenant A's UI", async () => {
    await page.goto(`${platform.base}/requests/${requestOfB.id}`);
    await page.getByTestId('request-missing').waitFor();
    expect(await heading().textContent()).toBe('Обращение не найдено');
    expect(await page.getByText(secretOfB.name).count()).toBe(0);
  });

  it('looks reasonable on a narrow screen, then logs out', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${platform.base}/requests`);
    await row(live.name).waitFor();
    await page.screenshot({ path: join(SHOTS, 'journal-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${platform.base}/requests`);
    await page.waitForURL(/\/login\?next=/);
    expect(pageErrors).toEqual([]);
  });
});
