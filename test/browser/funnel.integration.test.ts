/**
 * The funnel in a real browser (issue 9's path): Debian's Chromium driven by playwright-core against the
 * real platform (identity, intake, contacts, funnel on real gRPC and PostgreSQL, their events on real
 * Kafka, the gateway on real HTTP serving the freshly built web/dist).
 *
 * Set-up by REST: a request with a phone (intake matches it to a contact with a personal client card)
 * and, through the admin's session, a pipeline New → Qualified → Won / Lost whose Qualified stage has a
 * checklist item that Won's guard wants ticked, and from which New cannot be reached again. Then in the
 * browser: the request is converted into a deal from the journal; on the board the deal is dragged to
 * Qualified (it moves, the counts change, a reload shows it there), to New (refused: the allowed stages
 * named, the card back) and to Won (refused in Russian: the unticked item named); on the deal page the
 * item is ticked and the deal won; its client card turns active (contacts consumes the funnel's events);
 * reopened, the deal is dropped on Lost, which asks for the reason first.
 *
 * The steps build on each other (one browser page, logged in once), so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
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
const digits = String(Date.now() % 10_000_000).padStart(7, '0');
const person = `Марина Орлова ${tag}`;
const dealTitle = `Поставка ${tag}`;
let requestId = '';
let pipelineId = '';
let dealId = '';

const definition = {
  name: `Продажи ${tag}`,
  default_currency: 'RUB',
  lost_reasons: ['Too expensive', 'Went silent'],
  fields: [],
  stages: [
    { key: 'new', name: 'New', outcome: 'open', to: ['qualified', 'lost'] },
    { key: 'qualified', name: 'Qualified', outcome: 'open', to: ['won', 'lost'], checklist: [{ key: 'offer', text: 'Commercial offer sent' }], probability: 40 },
    { key: 'won', name: 'Won', outcome: 'won', to: [], guard: { required_fields: [], checklist_complete: true } },
    { key: 'lost', name: 'Lost', outcome: 'lost', to: [] },
  ],
};

const text = async (target: Locator) => ((await target.first().textContent()) ?? '').trim();
const column = (stage: string) => page.locator(`[data-testid="board-column"][data-stage="${stage}"]`);
const card = () => page.locator(`[data-testid="deal-card"][data-deal-id="${dealId}"]`);
const count = (stage: string) => column(stage).getByTestId('column-count').getAttribute('data-value');

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  requestId = await createRequest(platform.base, platform.tenants.a.apiKey, { channel: 'phone', name: person, phone: `+7 999 ${digits}`, message: `Нужна поставка ${tag}` });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
});

describe('the funnel UI (Chromium, real platform)', () => {
  it('logs in and sets up a pipeline with a checklist guard through the session', async () => {
    const { a } = platform.tenants;
    await logIn(page, platform.base, { slug: a.slug, email: a.adminEmail, password: a.adminPassword });
    await page.getByTestId('lang-en').click();

    const res = await page.request.post(`${platform.base}/v1/pipelines`, { data: definition, headers: { 'x-crm-csrf': '1' } });
    expect(res.status()).toBe(201);
    pipelineId = ((await res.json()) as { id: string }).id;
  });

  it('converts the request into a deal from the journal', async () => {
    await page.goto(`${platform.base}/requests`);
    const row = page.locator(`[data-testid="request-row"][data-id="${requestId}"]`);
    await untilVisible(row, () => page.reload());
    await row.getByTestId('journal-convert').click();
    const dialog = page.getByTestId('convert-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('convert-pipeline').selectOption(pipelineId);
    await dialog.getByTestId('convert-title').fill(dealTitle);
    await dialog.getByTestId('convert-amount').fill('150000');
    await dialog.getByTestId('convert-submit').click();
    await dialog.waitFor({ state: 'hidden', timeout: EVENTUAL_MS });

    // The request points to its deal; the deal came from the request.
    await page.goto(`${platform.base}/requests/${requestId}`);
    const link = page.getByTestId('request-deal-link');
    await link.first().waitFor({ timeout: EVENTUAL_MS });
    dealId = (await link.first().getAttribute('data-deal-id')) ?? '';
    expect(dealId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await link.first().getAttribute('href')).toBe(`/deals/${dealId}`);
  });

  it('drags the deal to an allowed stage on the board: it moves, the counts and totals follow, a reload agrees', async () => {
    await page.getByTestId('nav-deals').click();
    await page.waitForURL(/\/deals\?pipeline=/);
    expect(await page.getByTestId('board-pipeline').inputValue()).toBe(pipelineId);
    await column('new').locator(`[data-deal-id="${dealId}"]`).waitFor();
    expect(await page.getByTestId('board-column').count()).toBe(4);
    expect(await count('new')).toBe('1');
    expect(await count('qualified')).toBe('0');
    expect(await text(column('new').getByTestId('column-total'))).toContain('150,000.00');
    expect(await text(card().getByTestId('deal-card-age'))).toBe('< 1 min');

    await card().dragTo(column('qualified'));
    await column('qualified').locator(`[data-deal-id="${dealId}"]`).waitFor();
    expect(await count('new')).toBe('0');
    expect(await count('qualified')).toBe('1');
    expect(await text(column('qualified').getByTestId('column-total'))).toContain('150,000.00');
    // Weighted by the stage's 40 %.
    expect(await text(column('qualified').getByTestId('column-weighted'))).toContain('60,000.00');
    expect(await page.getByTestId('board-error').count()).toBe(0);

    await page.reload();
    await column('qualified').locator(`[data-deal-id="${dealId}"]`).waitFor();
    expect(await count('qualified')).toBe('1');
    expect(await count('new')).toBe('0');
    await page.screenshot({ path: join(SHOTS, 'funnel-board.png'), fullPage: true });
  });

  it('refuses a drop the definition forbids, naming the allowed stages, and puts the card back', async () => {
    await card().dragTo(column('new'));
    const error = page.getByTestId('board-error');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.innerText()).toContain('From here it can move to: Won, Lost');
    await column('qualified').locator(`[data-deal-id="${dealId}"]`).waitFor();
    expect(await column('new').getByTestId('deal-card').count()).toBe(0);
    expect(await count('qualified')).toBe('1');
    expect(await count('new')).toBe('0');
    await page.screenshot({ path: join(SHOTS, 'funnel-board-refused.png'), fullPage: true });
  });

  it("refuses the win while the stage's checklist is not done, saying so in Russian", async () => {
    await page.getByTestId('lang-ru').click();
    try {
      expect(await page.locator('h1').first().textContent()).toBe('Сделки');
      await card().dragTo(column('won'));
      const error = page.getByTestId('board-error').filter({ hasText: 'Не выполнены пункты чек-листа' });
      await error.waitFor();
      expect(await error.innerText()).toContain('Не выполнены пункты чек-листа: Commercial offer sent');
      await column('qualified').locator(`[data-deal-id="${dealId}"]`).waitFor();
      expect(await count('won')).toBe('0');
      expect(await count('qualified')).toBe('1');
      await page.screenshot({ path: join(SHOTS, 'funnel-board-ru.png'), fullPage: true });
    } finally {
      await page.getByTestId('lang-en').click();
    }
  });

  it('edits the deal, ticks the checklist on the deal page and wins the deal; the history and the request are there', async () => {
    await card().getByRole('link', { name: dealTitle }).click();
    await page.waitForURL(new RegExp(`/deals/${dealId}$`));
    await page.getByTestId('deal-page').waitFor();
    expect(await text(page.getByTestId('deal-title'))).toBe(dealTitle);
    expect(await text(page.getByTestId('deal-stage'))).toBe('Qualified');
    expect(await text(page.getByTestId('deal-state'))).toBe('Open');
    expect(await page.getByTestId('deal-request').getByRole('link').getAttribute('href')).toBe(`/requests/${requestId}`);

    // Edit: a bad amount is refused on the field, a good one typed the Russian way is saved.
    await page.getByTestId('deal-edit').click();
    await page.getByTestId('deal-amount-input').fill('12,345');
    await page.getByTestId('deal-save').click();
    await page.getByTestId('deal-invalid-amount').waitFor();
    await page.getByTestId('deal-amount-input').fill('160 000,50');
    await page.getByTestId('deal-save').click();
    await page.getByTestId('deal-amount').filter({ hasText: '160,000.50' }).waitFor();

    const item = page.locator('[data-testid="checklist-item"][data-key="offer"]');
    await item.getByRole('checkbox').check();
    await page.locator('[data-testid="checklist-item"][data-key="offer"][data-checked="true"]').waitFor();
    expect(await item.innerText()).toContain('ticked by Admin A');

    // Only what the definition allows from here is offered.
    const options = await page.getByTestId('deal-move-select').locator('option').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    expect(options).toEqual(['', 'won', 'lost']);
    await page.getByTestId('deal-move-select').selectOption('won');
    await page.getByTestId('deal-move-submit').click();
    await page.locator('[data-testid="deal-state"][data-state="won"]').waitFor();
    expect(await text(page.getByTestId('deal-state'))).toBe('Won');
    expect(await text(page.getByTestId('deal-stage'))).toBe('Won');
    await page.getByTestId('deal-reopen').waitFor();

    const rows = page.getByTestId('deal-history-row');
    await untilVisible(page.locator('[data-testid="deal-history-row"][data-kind="won"]'), () => page.reload());
    // Whether the create has a row of its own is the service's choice; the two moves are there once each, in order.
    const kinds = await rows.evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-kind')));
    expect(kinds.filter((k) => k !== 'created')).toEqual(['moved', 'won']);
    expect(await page.locator('[data-testid="deal-history-row"][data-kind="moved"]').innerText()).toContain('New → Qualified');
    expect(await page.locator('[data-testid="deal-history-row"][data-kind="won"]').innerText()).toContain('Qualified → Won');
    await page.screenshot({ path: join(SHOTS, 'funnel-deal-won.png'), fullPage: true });
  });

  it("turns the deal's client card active", async () => {
    await page.getByTestId('deal-card-link').click();
    await page.waitForURL(/\/client-cards\/[0-9a-f-]{36}$/);
    await page.getByTestId('card-page').waitFor();
    await untilVisible(page.getByTestId('card-state').filter({ hasText: 'Active' }), () => page.reload());
    await page.screenshot({ path: join(SHOTS, 'funnel-card-active.png'), fullPage: true });
  });

  it('reopens the deal, then loses it on the board: the drop on Lost asks for the reason first', async () => {
    await page.goto(`${platform.base}/deals/${dealId}`);
    await page.getByTestId('deal-reopen').click();
    await page.locator('[data-testid="deal-state"][data-state="open"]').waitFor();
    expect(await text(page.getByTestId('deal-stage'))).toBe('New');

    await page.goto(`${platform.base}/deals?pipeline=${pipelineId}`);
    await column('new').locator(`[data-deal-id="${dealId}"]`).waitFor();
    await card().dragTo(column('lost'));
    const dialog = page.getByTestId('board-lost-dialog');
    await dialog.waitFor();
    // Nothing moved yet.
    expect(await count('new')).toBe('1');
    await dialog.getByTestId('board-lost-reason').selectOption('Went silent');
    await dialog.getByTestId('board-lost-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await column('lost').locator(`[data-deal-id="${dealId}"]`).waitFor();
    expect(await count('lost')).toBe('1');
    expect(await count('new')).toBe('0');
    expect(await page.getByTestId('board-error').count()).toBe(0);

    await page.goto(`${platform.base}/deals/${dealId}`);
    await page.locator('[data-testid="deal-state"][data-state="lost"]').waitFor();
    expect(await page.getByTestId('deal-fields').innerText()).toContain('Went silent');
    expect(pageErrors).toEqual([]);
  });
});
