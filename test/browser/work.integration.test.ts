/**
 * A seller's morning in a real browser (issue 8, must show): Debian's Chromium driven by playwright-core
 * against the real platform (identity, intake with its routing, workflow and timers, contacts, Kafka, the
 * gateway serving the freshly built web/dist). Everything is seeded through the REST API as a tenant's
 * admin would: two departments, two sellers of both and a head of sales (invited, invites accepted),
 * shifts, a published routing version (utm_source "morning" → B, other phone calls → A; both left in the
 * queue), and requests from the API key. A's SLA is one business minute (open around the clock), so the
 * first request is breached by the time the seller looks; B has no SLA, so the requests the seller works
 * are not escalated under their hands.
 *
 * Seller 1: "my work" shows the breached request first (before a newer one that is not breached); in the
 * journal they take a request, on its page mark it answered and qualify it as a lead; defer another with
 * a date; trash a spam one with a reason — each visible in the state and the history. Seller 2, in
 * another browser whose live feed does not reach them, works a request seller 1 just took: the change is
 * refused with 412, the page shows the request as it is now (seller 1's), nothing is overwritten.
 * The head of sales edits the rule on the routing page: the simulator shows the new department at once,
 * and publishing makes it the published version.
 *
 * The steps build on each other, so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, SHOTS, WEB } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';

/** API → intake → outbox → Kafka → gateway feed: a few seconds at most; an SLA of one minute plus the timer's poll. */
const EVENTUAL_MS = 45_000;
const BREACH_MS = 300_000;
jest.setTimeout(300_000);

/** Seeding takes minutes on a busy machine: where it is, on stderr. */
const t0 = Date.now();
const step = (what: string) => process.stderr.write(`[work test +${Math.round((Date.now() - t0) / 1000)}s] ${what}\n`);

let platform: Platform;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

const tag = Date.now().toString(36);
const PASSWORD = 'a long seller password';

interface Req {
  id: string;
  state: string;
  version: number;
  assignee_id: string | null;
  department_id: string | null;
  sla_breached_at: string | null;
  first_response_at: string | null;
  axes: { qualification: string };
}

let adminCookie = '';
const users = { seller1: { id: '', email: `seller1.${tag}@a.test`, name: `Анна Продавец ${tag}` }, seller2: { id: '', email: `seller2.${tag}@a.test`, name: `Борис Продавец ${tag}` }, head: { id: '', email: `head.${tag}@a.test`, name: `Вера Руководитель ${tag}` } };
let deptA = '';
let deptB = '';
const req: Record<'breached' | 'answered' | 'take' | 'defer' | 'spam' | 'race', Req | undefined> = { breached: undefined, answered: undefined, take: undefined, defer: undefined, spam: undefined, race: undefined };

async function rest<T>(method: string, path: string, body?: unknown, auth: { cookie?: string; apiKey?: string; ifMatch?: number } = { cookie: adminCookie }): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth.cookie) {
    headers.cookie = auth.cookie;
    headers['x-crm-csrf'] = '1';
  }
  if (auth.apiKey) headers.authorization = `Bearer ${auth.apiKey}`;
  if (auth.ifMatch) headers['if-match'] = `"${auth.ifMatch}"`;
  const res = await fetch(`${platform.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

async function ok<T>(method: string, path: string, body?: unknown, auth?: { cookie?: string; apiKey?: string; ifMatch?: number }): Promise<T> {
  const r = await rest<T>(method, path, body, auth);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${platform.base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: platform.tenants.a.slug, email, password }) });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function invite(u: { email: string; name: string }, roles: string[], departments: string[], headed: string[] = []): Promise<string> {
  const inv = await ok<{ user: { id: string }; invite_token: string }>('POST', '/v1/team/invites', { email: u.email, display_name: u.name, roles, department_ids: departments, headed_department_ids: headed });
  await ok('POST', `/v1/invites/${inv.invite_token}/accept`, { password: PASSWORD }, {});
  return inv.user.id;
}

const createRequest = async (body: Record<string, unknown>) => {
  const created = await ok<{ id: string }>('POST', '/v1/requests', body, { apiKey: platform.tenants.a.apiKey });
  return getRequest(created.id);
};
const getRequest = (id: string) => ok<Req>('GET', `/v1/requests/${id}`);

/** Polls `read` until `done` holds or `ms` pass. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = EVENTUAL_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function browserFor(email: string, opts: { noLiveFeed?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  // This seller's live feed never arrives: the race where another's change has not reached them yet.
  if (opts.noLiveFeed) await context.route('**/v1/requests/stream', (route) => route.abort());
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`${platform.base}/login`);
  await page.getByLabel('Company (code)').fill(platform.tenants.a.slug);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/requests$/);
  await page.getByTestId('lang-en').click();
  return page;
}

async function openRequest(page: Page, id: string): Promise<void> {
  await page.goto(`${platform.base}/requests/${id}`);
  await page.getByTestId('request-page').and(page.locator(`[data-id="${id}"]`)).waitFor();
}

const stateOf = async (page: Page) => ((await page.getByTestId('request-state').textContent()) ?? '').replace('State:', '').trim();

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  step('ui built');
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  step('platform started');
  const { a } = platform.tenants;
  adminCookie = await login(a.adminEmail, a.adminPassword);

  // Two departments open around the clock (no hours); A answers within one minute.
  deptA = (await ok<{ id: string }>('POST', '/v1/team/departments', { name: `Продажи A ${tag}`, kind: 'sales', sla_first_response_minutes: 1 })).id;
  deptB = (await ok<{ id: string }>('POST', '/v1/team/departments', { name: `Продажи B ${tag}`, kind: 'sales', sla_first_response_minutes: 0 })).id;
  // Into the queues (nobody assigned by routing, so the sellers work the queue).
  const draft = await ok<{ version: { version: number }; problems: unknown[] }>('POST', '/v1/routing/drafts', {
    rules: [
      { id: 'morning', name: 'Утренние', when: { utm_sources: ['morning'] }, department_id: deptB, strategy: 'queue' },
      { id: 'phone', name: 'Звонки', when: { channels: ['phone'] }, department_id: deptA, strategy: 'queue' },
    ],
    fallback_department_id: deptA,
    fallback_strategy: 'queue',
  });
  expect(draft.problems).toEqual([]);
  await ok('POST', `/v1/routing/versions/${draft.version.version}/publish`, { expected_published_version: 0 });

  // The one that will be breached, first: the SLA minute runs while the rest is seeded.
  req.breached = await createRequest({ channel: 'phone', name: `Давний клиент ${tag}`, phone: '+79990000001' });
  expect(req.breached.department_id).toBe(deptA);

  step('routing published, first request created');
  users.seller1.id = await invite(users.seller1, ['seller'], [deptA, deptB]);
  users.seller2.id = await invite(users.seller2, ['seller'], [deptA, deptB]);
  users.head.id = await invite(users.head, ['head_of_sales'], [deptA, deptB], [deptA, deptB]);
  const now = Date.now();
  for (const u of [users.seller1, users.seller2]) {
    await ok('POST', '/v1/team/shifts', { user_id: u.id, starts_at: new Date(now - 3_600_000).toISOString(), ends_at: new Date(now + 12 * 3_600_000).toISOString() });
  }

  // A newer one of seller 1's is answered (never breached), so "breached first" is an order, not chance.
  const morning = { utm_source: 'morning' };
  const answered = await createRequest({ channel: 'phone', name: `Свежий отвеченный ${tag}`, phone: '+79990000002', attribution: morning });
  expect(answered.department_id).toBe(deptB);
  await ok('POST', `/v1/requests/${answered.id}/assignment`, { assignee_id: users.seller1.id });
  const assigned = await getRequest(answered.id);
  req.answered = await ok<Req>('POST', `/v1/requests/${answered.id}/answered`, {}, { cookie: await login(users.seller1.email, PASSWORD), ifMatch: assigned.version });
  expect(req.answered.state).toBe('in_progress');

  req.take = await createRequest({ channel: 'phone', name: `Возьму себе ${tag}`, phone: '+79990000003', attribution: morning });
  req.defer = await createRequest({ channel: 'phone', name: `Перезвонить завтра ${tag}`, phone: '+79990000004', attribution: morning });
  req.spam = await createRequest({ channel: 'phone', name: `Спамер ${tag}`, phone: '+79990000005', attribution: morning });
  req.race = await createRequest({ channel: 'phone', name: `Гонка ${tag}`, phone: '+79990000006', attribution: morning });

  step('requests created; waiting for the breach');
  req.breached = await until(() => getRequest(req.breached!.id), (r) => !!r.sla_breached_at, BREACH_MS);
  step('breached');
  // Assigned to seller 1 after the breach (and its escalation) is over.
  await until(
    () => rest('POST', `/v1/requests/${req.breached!.id}/assignment`, { assignee_id: users.seller1.id }),
    (r) => r.status === 200,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  step('seeded');
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await platform?.stop();
});

describe("a seller's morning (Chromium, real platform)", () => {
  let page: Page;

  it('shows the breached request first in my work', async () => {
    page = await browserFor(users.seller1.email);
    await page.getByTestId('nav-my-work').click();
    await page.waitForURL(/\/my-work$/);
    const items = page.getByTestId('my-request');
    await items.nth(1).waitFor({ timeout: EVENTUAL_MS });
    expect(await items.count()).toBe(2);
    expect(await items.first().getAttribute('data-id')).toBe(req.breached!.id);
    expect(await items.first().getAttribute('data-breached')).toBe('true');
    expect(await items.first().getByTestId('sla-badge').textContent()).toBe('SLA breached');
    expect(await items.nth(1).getAttribute('data-id')).toBe(req.answered!.id);
    expect(await page.getByTestId('counter-breached').locator('dd').textContent()).toBe('1');
    expect(await page.getByTestId('counter-assigned_open').locator('dd').textContent()).toBe('2');
    await page.screenshot({ path: join(SHOTS, 'work-my-work.png'), fullPage: true });
  });

  it('takes a request from the journal, marks it answered and qualifies it as a lead', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Request journal' }).click();
    await page.waitForURL(/\/requests$/);
    const row = page.getByTestId('request-row').and(page.locator(`[data-id="${req.take!.id}"]`));
    await row.waitFor({ timeout: EVENTUAL_MS });
    expect(await row.getAttribute('data-state')).toBe('new');
    // Only the moves the state allows: a new request can be taken or answered, not restored.
    expect(await row.getByTestId('row-restore').count()).toBe(0);
    await row.getByTestId('row-take').click();
    await page.getByTestId('request-row').and(page.locator(`[data-id="${req.take!.id}"][data-state="assigned"]`)).waitFor({ timeout: EVENTUAL_MS });
    expect(await row.getByTestId('assignee-cell').textContent()).toBe('You');
    await page.getByTestId('state-tabs').getByTestId('tab-assigned').waitFor();
    await page.screenshot({ path: join(SHOTS, 'work-journal.png'), fullPage: true });

    await row.locator('td').first().click();
    await page.waitForURL(new RegExp(`/requests/${req.take!.id}$`));
    await page.getByTestId('request-actions').waitFor();
    expect(await stateOf(page)).toBe('Assigned');
    await page.getByTestId('action-answered').click();
    await page.getByTestId('request-state').filter({ hasText: 'In progress' }).waitFor();
    expect(await page.getByTestId('field-first-response').count()).toBe(1);

    await page.getByTestId('qualification-select').selectOption('lead');
    await page.getByTestId('axis-qualification').filter({ hasText: 'Lead' }).waitFor();
    const stored = await getRequest(req.take!.id);
    expect(stored).toMatchObject({ state: 'in_progress', assignee_id: users.seller1.id, axes: { qualification: 'lead' } });
    expect(stored.first_response_at).toBeTruthy();

    // The history says who did what.
    const history = page.getByTestId('history-entry');
    await page.getByTestId('history-entry').and(page.locator('[data-field="qualification"]')).waitFor({ timeout: EVENTUAL_MS });
    const fields = await history.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-field')}:${e.getAttribute('data-to')}`));
    expect(fields).toEqual(expect.arrayContaining(['state:in_progress', 'qualification:lead']));
    expect(await history.and(page.locator('[data-field="qualification"]')).innerText()).toContain('You');
    await page.screenshot({ path: join(SHOTS, 'work-request.png'), fullPage: true });
  });

  it('defers another request with a date, which the page shows', async () => {
    await openRequest(page, req.defer!.id);
    await page.getByTestId('action-defer').click();
    // A date in the past is refused in the page, before anything is sent.
    await page.getByTestId('defer-at').fill('2020-01-01T10:00');
    await page.getByTestId('defer-submit').click();
    expect(await page.getByTestId('action-invalid').textContent()).toBe('The revisit date must be in the future');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.getByTestId('defer-at').fill(`${tomorrow}T10:00`);
    await page.getByTestId('defer-submit').click();
    await page.getByTestId('request-state').filter({ hasText: 'Deferred' }).waitFor();
    expect(await page.getByTestId('field-revisit').innerText()).toContain('10:00');
    const stored = await getRequest(req.defer!.id);
    expect(stored.state).toBe('deferred');
    // Deferred, it can only come back.
    expect(await page.getByTestId('action-restore').count()).toBe(1);
    expect(await page.getByTestId('action-take').count()).toBe(0);
  });

  it('trashes a spam request with the reason', async () => {
    await openRequest(page, req.spam!.id);
    await page.getByTestId('action-trash').click();
    await page.getByTestId('trash-submit').click();
    expect(await page.getByTestId('action-invalid').textContent()).toBe('Choose a reason');
    await page.getByTestId('trash-reason').selectOption('spam');
    await page.getByTestId('trash-submit').click();
    await page.getByTestId('request-state').filter({ hasText: 'Trash' }).waitFor();
    expect(await page.getByTestId('trash-info').innerText()).toContain('Spam');
    expect((await getRequest(req.spam!.id)) as Req & { trash_reason: string }).toMatchObject({ state: 'trash', trash_reason: 'spam' });
    await page.getByTestId('history-entry').and(page.locator('[data-field="state"][data-to="trash"]')).waitFor({ timeout: EVENTUAL_MS });
  });

  it('rings the bell when someone assigns a request to the seller, linking to it', async () => {
    await page.goto(`${platform.base}/requests`);
    await page.getByTestId('live-status').and(page.locator('[data-status="open"]')).waitFor({ timeout: EVENTUAL_MS });
    const fresh = await createRequest({ channel: 'phone', name: `Назначен вам ${tag}`, phone: '+79990000008' });
    await ok('POST', `/v1/requests/${fresh.id}/assignment`, { assignee_id: users.seller1.id });
    await page.getByTestId('bell-count').filter({ hasText: '1' }).waitFor({ timeout: EVENTUAL_MS });
    await page.getByTestId('bell').click();
    const note = page.getByTestId('notification').first();
    expect(await note.getAttribute('data-kind')).toBe('assigned');
    expect(await note.innerText()).toContain('Assigned to you');
    await note.getByRole('link').click();
    await page.waitForURL(new RegExp(`/requests/${fresh.id}$`));
    expect(await page.getByTestId('bell-count').count()).toBe(0);
    // A reload keeps the session's notifications (read), and "my work" lists the request.
    await page.goto(`${platform.base}/my-work`);
    await page.getByTestId('my-request').and(page.locator(`[data-id="${fresh.id}"]`)).waitFor({ timeout: EVENTUAL_MS });
    await page.getByTestId('bell').click();
    expect(await page.getByTestId('notification').count()).toBe(1);
    await page.getByTestId('bell').click();
  });

  it("shows a second seller the first one's change instead of overwriting it (412)", async () => {
    const second = await browserFor(users.seller2.email, { noLiveFeed: true });
    await openRequest(second, req.race!.id);
    expect(await stateOf(second)).toBe('New');

    // Seller 1 takes it first.
    await openRequest(page, req.race!.id);
    await page.getByTestId('action-take').click();
    await page.getByTestId('request-state').filter({ hasText: 'Assigned' }).waitFor();

    // Seller 2's page still shows it new (no live update reached it) and tries to take it too.
    expect(await stateOf(second)).toBe('New');
    await second.getByTestId('action-take').click();
    const outcome = second.getByTestId('work-outcome');
    await outcome.waitFor();
    expect(await outcome.getAttribute('data-kind')).toBe('stale');
    expect(await outcome.textContent()).toContain('Someone else changed this request');
    // ...and now shows the request as it is: assigned to seller 1.
    await second.getByTestId('request-state').filter({ hasText: 'Assigned' }).waitFor();
    expect(await second.getByTestId('field-assignee').getAttribute('data-assignee')).toBe(users.seller1.id);
    expect(await second.getByTestId('field-assignee').innerText()).toContain(users.seller1.name);
    await second.screenshot({ path: join(SHOTS, 'work-412.png'), fullPage: true });

    const stored = await getRequest(req.race!.id);
    expect(stored).toMatchObject({ state: 'assigned', assignee_id: users.seller1.id });
  });

  it('lets the head of sales change a rule, see it in the simulator, and publish it', async () => {
    const head = await browserFor(users.head.email);
    await head.getByTestId('nav-routing').click();
    await head.waitForURL(/\/settings\/routing$/);
    const rule = head.getByTestId('rule').and(head.locator('[data-rule-id="phone"]'));
    await rule.waitFor({ timeout: EVENTUAL_MS });
    expect(await head.getByTestId('rule').count()).toBe(2);
    // The simulator follows the published rules for a phone call: department A, rule "phone".
    await head.getByTestId('sim-department').and(head.locator(`[data-id="${deptA}"]`)).waitFor({ timeout: EVENTUAL_MS });
    expect(await head.getByTestId('sim-rule').getAttribute('data-id')).toBe('phone');

    // Edited (not saved): the simulator shows the new department.
    await rule.getByTestId('rule-department').selectOption(deptB);
    await head.getByTestId('sim-department').and(head.locator(`[data-id="${deptB}"]`)).waitFor({ timeout: EVENTUAL_MS });
    await head.screenshot({ path: join(SHOTS, 'work-routing.png'), fullPage: true });

    const before = await ok<{ version: number }>('GET', '/v1/routing/versions/published');
    await head.getByTestId('routing-publish').click();
    const message = head.getByTestId('routing-message').and(head.locator('[data-kind="published"]'));
    await message.waitFor({ timeout: EVENTUAL_MS });
    const published = await ok<{ version: number; rules: { id: string; department_id: string }[] }>('GET', '/v1/routing/versions/published');
    expect(published.version).toBeGreaterThan(before.version);
    expect(published.rules).toEqual([expect.objectContaining({ id: 'morning', department_id: deptB }), expect.objectContaining({ id: 'phone', department_id: deptB })]);
    // New phone requests now go to B.
    const next = await createRequest({ channel: 'phone', name: `После публикации ${tag}`, phone: '+79990000007' });
    expect(next.department_id).toBe(deptB);
  });

  it('threw no error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
