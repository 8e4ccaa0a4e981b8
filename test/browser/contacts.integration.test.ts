/**
 * The contacts section of the web UI in a real browser: Debian's Chromium driven by playwright-core,
 * against the real platform (identity, intake, contacts on real gRPC and PostgreSQL, their events on
 * real Kafka, the gateway on real HTTP serving the freshly built web/dist). Two tenants.
 *
 * A request arrives through the public API with `+7 999 …`; intake matches it to a contact. The seller
 * finds that contact by the phone typed another way (`8 (999) …`), opens it, sees the request in its
 * timeline (built by contacts from intake's Kafka events) and switches the page to Russian; then imports
 * a small Windows-1251, semicolon-separated CSV and watches the progress bar reach 100 %.
 *
 * The steps build on each other (one browser page, logged in once), so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, createRequest, logIn, SHOTS, untilVisible, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

/** How long something may take that travels API → service → outbox → Kafka → consumer → read model. */
const EVENTUAL_MS = 20_000;

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const tag = Date.now().toString(36);
// Unique digits per run (the databases are per run too; this only keeps screenshots telling).
const digits = String(Date.now() % 10_000_000).padStart(7, '0');
const stored = `+7 999 ${digits.slice(0, 3)} ${digits.slice(3, 5)} ${digits.slice(5)}`;
const e164 = `+7999${digits}`;
const typedOtherwise = `8 (999) ${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`;
const person = `Светлана Кузнецова ${tag}`;
const personOfB = `Чужая ${tag}`;
let requestId = '';
/** `/contacts/<id>` of the request's contact, once found. */
let contactPath = '';

/**
 * Windows-1251, as Excel saves a CSV in Russia: ASCII as is, А..я at 0xC0..0xFF, Ё 0xA8, ё 0xB8, № 0xB9.
 * (Node has no 1251 encoder of its own; these are all the letters the file below uses.)
 */
function cp1251(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c >= 0x410 && c <= 0x44f) out.push(c - 0x410 + 0xc0);
    else if (c === 0x401) out.push(0xa8);
    else if (c === 0x451) out.push(0xb8);
    else if (c === 0x2116) out.push(0xb9);
    else throw new Error(`no Windows-1251 byte for ${ch}`);
  }
  return Buffer.from(out);
}

// Five data rows: three new people, one already known (the request's phone written yet another way),
// one with a phone that cannot be a phone.
const csvRows = [
  'ФИО;Телефон;E-mail',
  `Иван Петров ${tag};+7 912 000-11-22;ivan.${tag}@example.ru`,
  `Ольга Смирнова ${tag};8 913 000 33 44;`,
  `Пётр Ёлкин ${tag};;petr.${tag}@example.ru`,
  `${person};+7(999)${digits};`,
  `Ошибка ${tag};12;`,
];
const csv = cp1251(csvRows.join('\r\n') + '\r\n');

const text = async (testId: string) => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  const { a, b } = platform.tenants;
  requestId = await createRequest(platform.base, a.apiKey, { channel: 'phone', name: person, phone: stored, message: `Хочу узнать цену ${tag}` });
  // The same phone in tenant B: its own contact, never shown to A.
  await createRequest(platform.base, b.apiKey, { channel: 'phone', name: personOfB, phone: stored });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe('the contacts UI (Chromium, real platform)', () => {
  it('logs in, switches to English, and finds the contact by the phone typed another way', async () => {
    const { a } = platform.tenants;
    await logIn(page, platform.base, { slug: a.slug, email: a.adminEmail, password: a.adminPassword });
    await page.getByTestId('lang-en').click();

    await page.getByTestId('nav-contacts').click();
    await page.waitForURL(/\/contacts$/);
    expect(await page.locator('h1').first().textContent()).toBe('Contacts');
    await page.getByTestId('contacts-search').fill(typedOtherwise);
    await page.waitForURL(/\/contacts\?q=/);
    const row = page.getByTestId('contact-row').filter({ hasText: person });
    await row.waitFor({ timeout: EVENTUAL_MS });
    expect(await page.getByTestId('contact-row').count()).toBe(1);
    expect(await row.innerText()).toContain(e164);
    expect(await page.getByText(personOfB).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'contacts-search.png'), fullPage: true });

    await row.getByRole('link', { name: person }).click();
    await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
    await page.getByTestId('contact-page').waitFor();
    contactPath = new URL(page.url()).pathname;
  });

  it("shows the contact's points with their verification and source, its card, and the request in its timeline", async () => {
    expect(await text('contact-name')).toBe(person);
    const point = page.getByTestId('point').filter({ hasText: e164 });
    expect(await point.getAttribute('data-type')).toBe('phone');
    expect(await point.getByTestId('verification-badge').getAttribute('data-verification')).toMatch(/^(verified|unverified)$/);
    expect(await point.innerText()).toContain('request');
    expect(await point.getByRole('link', { name: 'request' }).getAttribute('href')).toBe(`/requests/${requestId}`);

    // Every new contact gets a personal card: not a client, direct.
    await page.getByTestId('card-row').first().waitFor({ timeout: EVENTUAL_MS });
    expect(await page.getByTestId('contact-cards').innerText()).toContain('Not a client');

    // The timeline is a read model of intake's events: it may take a moment ("Refresh" asks again).
    const entry = page.getByTestId('timeline-entry').and(page.locator('[data-kind="request_created"]'));
    await untilVisible(entry.first(), () => page.getByTestId('timeline-refresh').click());
    expect(await entry.first().getByRole('link').getAttribute('href')).toBe(`/requests/${requestId}`);
    expect(await entry.first().innerText()).toContain(`Хочу узнать цену ${tag}`);

    const requests = page.getByTestId('contact-request');
    await requests.first().waitFor();
    expect(await requests.count()).toBe(1);
    expect(await requests.first().getByRole('link').getAttribute('href')).toBe(`/requests/${requestId}`);
    await page.screenshot({ path: join(SHOTS, 'contact-en.png'), fullPage: true });
  });

  it('shows the contact page in Russian after the language switch', async () => {
    await page.getByTestId('lang-ru').click();
    try {
      await inRussian();
    } finally {
      await page.getByTestId('lang-en').click();
    }
  });

  const inRussian = async () => {
    expect(await page.locator('#timeline-title').textContent()).toBe('Журнал общения');
    expect(await page.locator('#points-title').textContent()).toBe('Контактные данные');
    expect(await page.getByTestId('contact-cards').innerText()).toContain('Не клиент');
    const badge = await page.getByTestId('point').filter({ hasText: e164 }).getByTestId('verification-badge').textContent();
    expect(['подтверждён', 'не подтверждён']).toContain(badge);
    expect(await page.getByTestId('timeline-entry').first().innerText()).toContain('Обращение');
    expect(await page.getByTestId('nav-contacts').textContent()).toBe('Контакты');
    await page.screenshot({ path: join(SHOTS, 'contact-ru.png'), fullPage: true });
  };

  it("opens the contact's client card and changes its state by hand, with a reason, into its history", async () => {
    await page.goto(`${platform.base}${contactPath}`);
    await page.getByTestId('card-row').first().getByRole('link').first().click();
    await page.waitForURL(/\/client-cards\/[0-9a-f-]{36}$/);
    await page.getByTestId('card-page').waitFor();
    expect(await text('card-state')).toBe('Not a client');
    expect(await text('card-kind')).toBe('Direct');
    expect(await page.getByTestId('history-row').first().getAttribute('data-field')).toBe('created');

    await page.getByTestId('card-state-select').selectOption('potential');
    await page.getByTestId('card-state-submit').click();
    expect(await text('card-state-invalid')).toBe('Enter the reason');
    await page.getByTestId('card-reason').fill('Просил коммерческое предложение');
    await page.getByTestId('card-state-submit').click();
    await page.getByTestId('card-state').filter({ hasText: 'Potential' }).waitFor();
    const last = page.getByTestId('history-row').last();
    await last.filter({ hasText: 'Просил коммерческое предложение' }).waitFor();
    expect(await last.getAttribute('data-field')).toBe('state');
    expect(await last.innerText()).toContain('Not a client → Potential');
    await page.screenshot({ path: join(SHOTS, 'client-card.png'), fullPage: true });
  });

  it('links the request page to its contact', async () => {
    await page.goto(`${platform.base}/requests/${requestId}`);
    await page.getByTestId('request-page').waitFor();
    await page.getByTestId('request-contact-link').waitFor({ timeout: EVENTUAL_MS });
    expect(await page.getByTestId('request-contact-link').getAttribute('href')).toBe(contactPath);
  });

  it('refuses a new contact with a phone another contact has, linking to the owner', async () => {
    await page.goto(`${platform.base}/contacts`);
    await page.getByTestId('contact-new').click();
    await page.getByTestId('new-submit').click();
    expect(await text('new-name-error')).toBe('Enter a name or at least one contact point');

    await page.getByTestId('new-name').fill(`Двойник ${tag}`);
    await page.getByTestId('new-phone').fill(`+7 (999) ${digits}`);
    await page.getByTestId('new-submit').click();
    const owned = page.getByTestId('new-phone-owned');
    await owned.waitFor();
    expect(await owned.innerText()).toContain('This phone belongs to another contact');
    expect(await owned.getByRole('link').getAttribute('href')).toBe(contactPath);
    expect(page.url()).toMatch(/\/contacts$/);
  });

  it('imports a Windows-1251 CSV with semicolons: analysis, a mapping that survives a reload, a dry run, then the progress bar to 100 %', async () => {
    await page.goto(`${platform.base}/imports`);
    await page.getByTestId('import-file').setInputFiles({ name: `база-${tag}.csv`, mimeType: 'text/csv', buffer: csv });
    await page.getByTestId('import-upload-submit').click();
    await page.waitForURL(/\/imports\/[0-9a-f-]{36}$/);
    await page.getByTestId('import-analysis').waitFor({ timeout: EVENTUAL_MS });

    const detected = page.getByTestId('import-detected');
    expect(await detected.getAttribute('data-encoding')).toBe('windows-1251');
    expect(await detected.getAttribute('data-delimiter')).toBe(';');
    // Decoded correctly: the Cyrillic of the sample is readable.
    expect(await page.getByTestId('import-sample').innerText()).toContain(`Пётр Ёлкин ${tag}`);
    expect(await page.getByTestId('sample-row').count()).toBe(5);
    // The suggestion fills the selects.
    expect(await page.getByTestId('import-map-0').inputValue()).toBe('name');
    expect(await page.getByTestId('import-map-1').inputValue()).toBe('phone');
    expect(await page.getByTestId('import-map-2').inputValue()).toBe('email');

    // A draft: a changed mapping survives a reload of the page.
    await page.getByTestId('import-map-2').selectOption('ignore');
    await page.reload();
    await page.getByTestId('import-analysis').waitFor({ timeout: EVENTUAL_MS });
    expect(await page.getByTestId('import-map-2').inputValue()).toBe('ignore');
    await page.getByTestId('import-map-2').selectOption('email');

    await page.getByTestId('import-dry-run').click();
    const report = page.getByTestId('import-dry-report');
    await report.waitFor({ timeout: EVENTUAL_MS });
    const count = (key: string) => report.getByTestId(`count-${key}`).getAttribute('data-value');
    expect(await count('total')).toBe('5');
    expect(await count('invalid')).toBe('1');
    expect(await count('duplicates')).toBe('1');
    expect(await count('created')).toBe('3');
    await report.getByTestId('import-error-row').first().waitFor();
    // Row numbers count the header line: the bad phone is on line 6.
    expect(await report.getByTestId('import-error-row').first().locator('td').first().textContent()).toBe('6');
    await page.screenshot({ path: join(SHOTS, 'import-dry-run.png'), fullPage: true });

    await page.getByTestId('import-start').click();
    const done = page.getByTestId('import-done');
    await done.waitFor({ timeout: EVENTUAL_MS });
    expect(await done.getAttribute('data-status')).toBe('done');
    const bar = done.getByTestId('import-progress');
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    expect(await done.getByTestId('import-percent').textContent()).toBe('100 %');
    const final = (key: string) => done.getByTestId(`count-${key}`).getAttribute('data-value');
    expect(await final('processed')).toBe('5');
    expect(await final('created')).toBe('3');
    expect(await final('duplicates')).toBe('1');
    expect(await final('invalid')).toBe('1');
    await page.screenshot({ path: join(SHOTS, 'import-done.png'), fullPage: true });
  });

  it('resolves a probable duplicate: merge into the chosen contact, then undo from the toast', async () => {
    // Two contacts (through the seller's session), then one request whose phone is the first's and whose
    // e-mail is the second's: match-or-create picks one and records a probable duplicate.
    const post = async (body: object) => {
      const res = await page.request.post(`${platform.base}/v1/contacts`, { data: body, headers: { 'x-crm-csrf': '1', 'idempotency-key': `${tag}-${JSON.stringify(body).length}-${Math.random()}` } });
      expect(res.status()).toBe(201);
      return (await res.json()) as { id: string };
    };
    const first = await post({ name: `Анна Первая ${tag}`, points: [{ type: 'phone', value: '+7 916 555-00-11' }] });
    const second = await post({ name: `Анна Вторая ${tag}`, points: [{ type: 'email', value: `anna.${tag}@example.ru` }] });
    await createRequest(platform.base, platform.tenants.a.apiKey, { channel: 'web_form', name: `Анна ${tag}`, phone: '89165550011', email: `Anna.${tag}@example.ru` });

    await page.goto(`${platform.base}/duplicates`);
    const pair = page.getByTestId('duplicate').filter({ hasText: `Анна Первая ${tag}` }).filter({ hasText: `Анна Вторая ${tag}` });
    await untilVisible(pair, () => page.reload());
    await pair.getByTestId('dup-side').and(page.locator(`[data-id="${first.id}"]`)).getByTestId('dup-keep').click();
    await page.getByTestId('toast').waitFor();
    expect(await pair.count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'duplicates-merged.png'), fullPage: true });

    await page.getByTestId('toast-undo').click();
    await page.getByTestId('toast').waitFor({ state: 'detached' });
    const merges = await page.request.get(`${platform.base}/v1/contacts/${second.id}/merges`);
    const items = ((await merges.json()) as { items: { survivor_id: string; undone_at: string | null }[] }).items;
    expect(items).toEqual([expect.objectContaining({ survivor_id: first.id, undone_at: expect.any(String) })]);
  });

  it('creates a company: an INN failing its checksum is refused on the field, a valid one opens the company', async () => {
    await page.goto(`${platform.base}/companies`);
    await page.getByTestId('company-new').click();
    await page.getByTestId('company-name').fill(`ООО «Ромашка» ${tag}`);
    await page.getByTestId('company-inn').fill('1234567890');
    await page.getByTestId('company-submit').click();
    await page.getByTestId('company-inn-error').filter({ hasText: /\S/ }).waitFor();
    expect(page.url()).toMatch(/\/companies$/);

    await page.getByTestId('company-inn').fill('7707083893');
    await page.getByTestId('company-submit').click();
    await page.waitForURL(/\/companies\/[0-9a-f-]{36}$/);
    expect(await text('company-title')).toBe(`ООО «Ромашка» ${tag}`);
    expect(await text('company-tax-id')).toBe('7707083893');
  });

  it('finds an imported person in the cold base, and nothing of tenant B anywhere', async () => {
    await page.goto(`${platform.base}/bases?base=cold`);
    await page.getByTestId('base-search').fill(`Ольга Смирнова ${tag}`);
    await page.getByTestId('base-row').filter({ hasText: `Ольга Смирнова ${tag}` }).waitFor({ timeout: EVENTUAL_MS });
    // The contact of the request has a request of its own: not cold.
    await page.getByTestId('base-search').fill(person);
    await page.getByTestId('base-empty').waitFor({ timeout: EVENTUAL_MS });

    await page.goto(`${platform.base}/contacts?q=${encodeURIComponent(personOfB)}`);
    await page.getByTestId('contacts-empty').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
