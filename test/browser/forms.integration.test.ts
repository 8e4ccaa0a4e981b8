/**
 * A plain HTML form with no JavaScript, in Debian's Chromium with JavaScript disabled: the visitor fills
 * the demo's no-JS form on a page opened from an ad (UTM tags in its address), the browser posts
 * application/x-www-form-urlencoded and follows the 303 to the thank-you page; then a seller, logged in
 * (JavaScript on), sees the request in the journal with its UTM tags and, on the request page, its
 * extra field. Real platform: identity, intake, gateway, Kafka.
 */
import { chromium, type Browser } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let browser: Browser;

const tag = Date.now().toString(36);
const visitor = { name: `Без скриптов ${tag}`, phone: '8 (916) 700-12-34', email: `nojs-${tag}@example.com`, company: `ООО Ромашка ${tag}`, message: 'Перезвоните вечером' };
const utm = { utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: `nojs_${tag}` };

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('a plain HTML form (Chromium, JavaScript disabled)', () => {
  it('posts, follows the 303 to the thank-you page, and the request shows up with its UTM tags and extra fields', async () => {
    const { a } = platform.tenants;
    const visitorContext = await browser.newContext({ javaScriptEnabled: false, locale: 'ru-RU' });
    try {
      const form = await visitorContext.newPage();
      const landing = `${platform.base}/demo/form/no-js?form=${a.formId}&${new URLSearchParams(utm)}`;
      await form.goto(landing);
      expect(await form.locator('script').count()).toBe(0);
      await form.getByLabel('Имя').fill(visitor.name);
      await form.getByLabel('Телефон').fill(visitor.phone);
      await form.getByLabel('E-mail').fill(visitor.email);
      await form.getByLabel('Компания').fill(visitor.company);
      await form.getByLabel('Сообщение').fill(visitor.message);
      const posted = form.waitForResponse((r) => r.url().endsWith(`/v1/forms/${a.formId}/submissions`) && r.request().method() === 'POST');
      await form.getByRole('button', { name: 'Отправить' }).click();
      const post = await posted;
      expect(post.status()).toBe(303);
      expect(post.request().headers()['content-type']).toContain('application/x-www-form-urlencoded');
      await form.waitForURL(/\/forms\/thank-you\?lang=ru$/);
      expect(await form.locator('#thanks').textContent()).toBe('Заявка отправлена. Мы свяжемся с вами.');
      await form.screenshot({ path: join(SHOTS, 'form-nojs-thanks.png') });
    } finally {
      await visitorContext.close();
    }

    const seller = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 800 } });
    try {
      const page = await seller.newPage();
      await page.goto(`${platform.base}/login`);
      await page.getByTestId('login-submit').waitFor();
      await page.getByLabel('Компания (код)').fill(a.slug);
      await page.getByLabel('E-mail').fill(a.adminEmail);
      await page.getByLabel('Пароль').fill(a.adminPassword);
      await page.getByTestId('login-submit').click();
      await page.waitForURL(/\/requests$/);
      const row = page.getByTestId('request-row').filter({ hasText: visitor.name });
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      expect(cells).toEqual(expect.arrayContaining(['Веб-форма', '+79167001234', visitor.email, 'yandex']));

      await row.locator('td').first().click();
      await page.getByTestId('request-page').waitFor();
      expect(await page.getByTestId('attr-utm_source').innerText()).toContain('yandex');
      expect(await page.getByTestId('attr-utm_medium').innerText()).toContain('cpc');
      expect(await page.getByTestId('attr-utm_campaign').innerText()).toContain(utm.utm_campaign);
      expect(await page.getByTestId('attr-landing_page').innerText()).toContain(`/demo/form/no-js?form=${a.formId}`);
      expect(await page.getByTestId('request-message').innerText()).toBe(visitor.message);
      expect(await page.locator('#extra-title').textContent()).toBe('Другие поля формы');
      const extra = page.getByTestId('extra-field');
      expect(await extra.count()).toBe(1);
      expect(await extra.locator('dt').textContent()).toBe('company');
      expect(await extra.locator('dd').textContent()).toBe(visitor.company);
      expect(await page.getByTestId('extra-fields-truncated').count()).toBe(0);
      await page.screenshot({ path: join(SHOTS, 'request-extra-fields.png'), fullPage: true });
    } finally {
      await seller.close();
    }
  });
});
