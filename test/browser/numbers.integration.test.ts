/**
 * Numbers and DNI pools in a real browser (issue 10): Debian's Chromium driven by playwright-core against
 * the real platform (identity and telephony on real gRPC and PostgreSQL, the gateway on real HTTP serving
 * the freshly built web/dist).
 *
 * The admin finds /telephony/numbers in the header, adds an advertising number with its campaign (a bad
 * phone first: refused on the field with a clear message), adds a second, makes a DNI pool of both with a
 * fallback number and sees its embed snippet (the script it names is served). A third number, put in a
 * pool by another admin meanwhile, is refused for a second pool on the stale page (a clear message, the
 * lists refreshed). A number is archived (it leaves its pool). The page once in Russian. A seller (no
 * telephony:admin) has no link, and the page shows the numbers read-only with a message saying who sets
 * them up; the pools API refuses them.
 *
 * The steps build on each other (one admin page, logged in once), so they run in order.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, logIn, SHOTS, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const tag = Date.now().toString(36);
const seller = { email: `seller.${tag}@a.test`, password: 'numbers test password' };
// Active numbers are unique across tenants (a dialed number says whose call it is): random Moscow numbers.
const rnd = () => String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
const made = [rnd(), rnd(), rnd()].map((d) => ({ typed: `8 (495) 6${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4)}`, e164: `+74956${d}` }));
const fallback = { typed: `+7 495 7${rnd()}` };
const poolName = `Сайт ${tag}`;
const otherPool = `Другой ${tag}`;

const text = async (target: Locator) => ((await target.first().textContent()) ?? '').trim();
const row = (e164: string) => page.getByTestId('number-row').filter({ hasText: e164 });

async function addNumber(n: { typed: string; e164: string }, label: string, campaign: string): Promise<void> {
  const form = page.getByTestId('number-form');
  await form.getByTestId('number-phone').fill(n.typed);
  await form.getByTestId('number-kind').selectOption('advertising');
  await form.getByTestId('number-label').fill(label);
  await form.getByTestId('number-utm_source').fill('yandex');
  await form.getByTestId('number-utm_medium').fill('cpc');
  await form.getByTestId('number-utm_campaign').fill(campaign);
  await form.getByTestId('number-submit').click();
  await row(n.e164).waitFor();
  // The form is cleared for the next one.
  expect(await form.getByTestId('number-phone').inputValue()).toBe('');
}

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  try {
    const ctx = { tenantId: platform.tenants.a.id, callerId: 'e2e', callerKind: 'service' as const };
    await identity.createUser({ email: seller.email, displayName: 'Seller', password: seller.password, roles: [Role.ROLE_SELLER], departmentId: '' }, ctx);
  } finally {
    identity.close();
  }
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('dialog', (d) => void d.accept());
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe('the numbers and pools UI (Chromium, real platform)', () => {
  it('logs in and reaches the numbers page from the header', async () => {
    const { a } = platform.tenants;
    await logIn(page, platform.base, { slug: a.slug, email: a.adminEmail, password: a.adminPassword });
    await page.getByTestId('lang-en').click();
    await page.getByTestId('nav-numbers').click();
    await page.waitForURL(/\/telephony\/numbers$/);
    await page.getByTestId('numbers-page').waitFor();
    expect(await text(page.locator('h1'))).toBe('Numbers');
    expect(await page.getByTestId('nav-numbers').getAttribute('aria-current')).toBe('page');
    expect(await page.getByTestId('numbers-readonly').count()).toBe(0);
  });

  it('refuses a bad phone on the field, then adds two advertising numbers with their campaigns', async () => {
    const form = page.getByTestId('number-form');
    await form.getByTestId('number-phone').fill('12-ab');
    await form.getByTestId('number-submit').click();
    const error = form.getByTestId('number-phone-error');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.innerText()).toContain('This is not a phone number');
    expect(await form.getByTestId('number-phone').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('number-row').count()).toBe(0);

    await addNumber(made[0], 'Директ зима', `winter-${tag}`);
    expect(await form.getByTestId('number-phone-error').count()).toBe(0);
    const first = row(made[0].e164);
    expect(await first.innerText()).toContain('Advertising');
    expect(await first.innerText()).toContain('Директ зима');
    expect(await first.innerText()).toContain(`yandex / cpc / winter-${tag}`);
    await addNumber(made[1], 'Директ весна', `spring-${tag}`);
    expect(await page.getByTestId('number-row').count()).toBe(2);
  });

  it('creates a DNI pool of both numbers with a fallback, and shows the snippet to embed', async () => {
    const form = page.getByTestId('pool-form');
    await form.getByTestId('pool-name').fill(poolName);
    for (const n of made.slice(0, 2)) await form.locator('label', { hasText: n.e164 }).getByTestId('pool-number').check();
    await form.getByTestId('pool-fallback').fill(fallback.typed);
    await form.getByTestId('pool-origins').fill('https://shop.example');
    // A quiet period below 30 s is refused on its field (not silently replaced by the default).
    await form.getByTestId('pool-quiet').fill('5');
    await form.getByTestId('pool-submit').click();
    await form.locator('.field', { has: page.getByTestId('pool-quiet') }).getByRole('alert').waitFor();
    expect(await page.getByTestId('pool').count()).toBe(0);
    await form.getByTestId('pool-quiet').fill('120');
    await form.getByTestId('pool-submit').click();

    const pool = page.getByTestId('pool').filter({ hasText: poolName });
    await pool.waitFor();
    const shown = await pool.innerText();
    expect(shown).toContain(made[0].e164);
    expect(shown).toContain(made[1].e164);
    expect(shown).toMatch(/Fallback number: \+74957\d{6} · Quiet period, s: 120/);
    expect(shown).toContain('https://shop.example');
    // Both numbers now name their pool in the table, and none is left to choose for another pool.
    for (const n of made.slice(0, 2)) expect(await row(n.e164).innerText()).toContain(poolName);
    expect(await text(form)).toContain('No free advertising numbers');

    const snippet = await pool.getByTestId('pool-snippet').inputValue();
    const src = /^<script src="([^"]+)" async><\/script>$/.exec(snippet)?.[1] ?? '';
    expect(src.startsWith(`${platform.base}/dni/`)).toBe(true);
    const script = await page.request.get(src);
    expect(script.status()).toBe(200);
    expect(script.headers()['content-type']).toContain('javascript');
    await page.screenshot({ path: join(SHOTS, 'numbers-pool.png'), fullPage: true });
  });

  it('refuses a number that another admin put in a pool meanwhile, saying so, and refreshes the lists', async () => {
    await addNumber(made[2], 'Авито', `avito-${tag}`);
    const form = page.getByTestId('pool-form');
    const choice = form.locator('label', { hasText: made[2].e164 }).getByTestId('pool-number');
    await choice.check();
    // Another admin (the same session, another tab's REST call) takes it into a pool of their own.
    const numbers = (await (await page.request.get(`${platform.base}/v1/numbers`)).json()) as { items: { id: string; phone: string }[] };
    const third = numbers.items.find((n) => n.phone === made[2].e164)!;
    const res = await page.request.post(`${platform.base}/v1/number-pools`, { data: { name: otherPool, number_ids: [third.id] }, headers: { 'x-crm-csrf': '1' } });
    expect(res.status()).toBe(201);

    await form.getByTestId('pool-name').fill(`Второй ${tag}`);
    await form.getByTestId('pool-submit').click();
    const refused = form.getByTestId('pool-number-in-pool');
    await refused.waitFor();
    expect(await refused.innerText()).toContain('already in another pool');
    expect(await refused.getAttribute('title')).toContain(otherPool);
    // The lists as they are now: the number is in the other pool, no longer offered; no second pool was made.
    await page.getByTestId('pool').filter({ hasText: otherPool }).waitFor();
    await row(made[2].e164).filter({ hasText: otherPool }).waitFor();
    expect(await form.locator('label', { hasText: made[2].e164 }).count()).toBe(0);
    expect(await page.getByTestId('pool').filter({ hasText: `Второй ${tag}` }).count()).toBe(0);
  });

  it('archives a number: it leaves the list and its pool, and shows among the archived', async () => {
    await row(made[1].e164).getByTestId('number-archive').click();
    await row(made[1].e164).waitFor({ state: 'detached' });
    const pool = page.getByTestId('pool').filter({ hasText: poolName });
    await pool.filter({ hasNotText: made[1].e164 }).waitFor();
    expect(await pool.innerText()).toContain(made[0].e164);

    await page.getByTestId('numbers-archived').check();
    const archived = page.locator(`[data-testid="number-row"][data-archived="true"]`).filter({ hasText: made[1].e164 });
    await archived.waitFor();
    expect(await archived.innerText()).toContain('Archived');
    expect(await archived.getByTestId('number-archive').count()).toBe(0);
    await page.getByTestId('numbers-archived').uncheck();
  });

  it('is translated into Russian', async () => {
    await page.getByTestId('lang-ru').click();
    try {
      expect(await text(page.locator('h1'))).toBe('Номера');
      expect(await text(page.getByTestId('nav-numbers'))).toBe('Номера');
      expect(await text(page.getByTestId('pools').locator('h2'))).toBe('Пулы подменных номеров');
      expect(await row(made[0].e164).innerText()).toContain('Рекламный');
      const form = page.getByTestId('number-form');
      await form.getByTestId('number-phone').fill('телефон');
      await form.getByTestId('number-submit').click();
      await form.getByTestId('number-phone-error').filter({ hasText: 'Это не номер телефона' }).waitFor();
      expect(await text(form.getByTestId('number-submit'))).toBe('Добавить номер');
      await page.screenshot({ path: join(SHOTS, 'numbers-ru.png'), fullPage: true });
    } finally {
      await page.getByTestId('lang-en').click();
    }
  });

  it('shows a seller no link and no admin controls, only the numbers and who sets them up', async () => {
    const other = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
    try {
      const p = await other.newPage();
      p.on('pageerror', (err) => pageErrors.push(String(err)));
      await logIn(p, platform.base, { slug: platform.tenants.a.slug, email: seller.email, password: seller.password });
      await p.getByTestId('lang-en').click();
      expect(await p.getByTestId('nav-numbers').count()).toBe(0);
      await p.goto(`${platform.base}/telephony/numbers`);
      await p.getByTestId('numbers-page').waitFor();
      expect(await text(p.getByTestId('numbers-readonly'))).toBe('Numbers and pools are set up by a head of sales or an administrator.');
      await p.getByTestId('number-row').filter({ hasText: made[0].e164 }).waitFor();
      for (const id of ['number-form', 'pools', 'number-archive', 'number-edit']) expect(await p.getByTestId(id).count()).toBe(0);
      expect(await p.getByRole('alert').count()).toBe(0);
      const pools = await p.request.get(`${platform.base}/v1/number-pools`);
      expect(pools.status()).toBe(403);
      const create = await p.request.post(`${platform.base}/v1/numbers`, { data: { phone: '+74951234567', kind: 'sales' }, headers: { 'x-crm-csrf': '1' } });
      expect(create.status()).toBe(403);
    } finally {
      await other.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
