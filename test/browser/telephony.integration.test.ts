/**
 * The screen pop in a real browser (issue 10): Debian's Chromium driven by playwright-core against the
 * real platform (identity, intake, contacts, funnel, telephony on real gRPC and PostgreSQL, their events
 * on real Kafka, the gateway on real HTTP serving the freshly built web/dist).
 *
 * Two sellers logged in in two pages; a generic connection with an extension for each and an advertising
 * number (telephony's gRPC API). A signed generic `call.ringing` webhook ringing seller 1's extension pops
 * the card in seller 1's page and not in seller 2's; `call.answered` shows the timer; a note typed, the card
 * minimised and reopened (the note is still there), saved; `call.ended` shows the hang-up; the note is a
 * comment on the request page, the call is on the contact's timeline and in its call history. A second
 * call from the same phone pops a known client's card, and comes back after a reload (the live calls are
 * asked for) with its draft note.
 *
 * The steps build on each other (one page per seller, logged in once), so they run in order.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sendGeneric, setUpPbx, type PbxSetup } from '../support/call-pop';
import { buildUi, CHROMIUM_ARGS, CHROMIUM_PATH, logIn, SHOTS, untilVisible, WEB, type PageGlobals } from '../support/browser';
import { startPlatform, type Platform } from '../support/platform';
import { client, makeWorkTeam, type WorkTeam } from '../support/work-team';

/** How long something may take that travels webhook → telephony → outbox → Kafka → gateway → browser. */
const EVENTUAL_MS = 20_000;
const PASSWORD = 'work test password';

let platform: Platform;
let team: WorkTeam;
let pbx: PbxSetup;
let browser: Browser;
const contexts: BrowserContext[] = [];
let one: Page;
let two: Page;
const pageErrors: string[] = [];

const tag = Date.now().toString(36);
const digits = String(Date.now() % 10_000_000).padStart(7, '0');
const caller = `+7999${digits}`;
const callId = `pbx-${tag}`;
const note = `Клиент просит счёт ${tag}`;
let requestId = '';

async function openPage(email: string): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await logIn(page, platform.base, { slug: platform.tenants.a.slug, email, password: PASSWORD });
  await page.getByTestId('lang-en').click();
  return page;
}

async function webhook(event: Parameters<typeof sendGeneric>[2]): Promise<void> {
  const res = await sendGeneric(platform.base, pbx, event);
  if (res.status >= 300) throw new Error(`the webhook answered ${res.status}: ${await res.text()}`);
}

beforeAll(async () => {
  buildUi();
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform({ webDist: join(WEB, 'dist') });
  team = await makeWorkTeam(platform);
  pbx = await setUpPbx(platform.telephonyAddr, platform.tenants.a.id, { [team.sellerA.id]: '101', [team.sellerB.id]: '102' }, `+7495${digits}`);
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  [one, two] = await Promise.all([openPage(team.sellerA.email), openPage(team.sellerB.email)]);
});

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await platform?.stop();
});

describe('the screen pop (Chromium, real platform)', () => {
  it("pops the card in seller 1's page only", async () => {
    await webhook({ type: 'call.ringing', call_id: callId, direction: 'inbound', caller, callee: pbx.number, extensions: ['101'] });
    const pop = one.getByTestId('call-pop');
    await pop.waitFor({ timeout: EVENTUAL_MS });
    await one.getByTestId('call-pop-phone').or(one.getByTestId('call-pop-name')).first().waitFor();
    expect(await pop.getByTestId('call-status').getAttribute('data-status')).toBe('ringing');
    // Seller 2 had the same time (and more) to hear of it.
    await one.waitForTimeout(500);
    expect(await two.getByTestId('call-pop').count()).toBe(0);
    await one.screenshot({ path: join(SHOTS, 'telephony-pop.png') });
  });

  it('answered: the timer runs; the note survives minimising the card', async () => {
    await webhook({ type: 'call.answered', call_id: callId, direction: 'inbound', caller, callee: pbx.number, extension: '101' });
    const status = one.getByTestId('call-pop').getByTestId('call-status');
    await one.waitForFunction((want) => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="call-status"]')[0]?.getAttribute('data-status') === want, 'answered', { timeout: EVENTUAL_MS });
    expect(await status.textContent()).toMatch(/Talking \d+:\d\d/);
    await one.getByTestId('call-pop-note').fill(note);
    await one.getByTestId('call-pop-close').click();
    expect(await one.getByTestId('call-pop').count()).toBe(0);
    await one.getByTestId('call-dock-reopen').click();
    expect(await one.getByTestId('call-pop-note').inputValue()).toBe(note);
  });

  it('saves the note on the request; the hang-up shows', async () => {
    const save = one.getByTestId('call-pop-save');
    // The card knows the request once the call is ingested.
    await untilVisible(one.getByTestId('call-pop-answer'), () => one.waitForTimeout(500), EVENTUAL_MS);
    await save.click();
    await one.getByTestId('call-pop-saved').waitFor();
    await webhook({ type: 'call.ended', call_id: callId, direction: 'inbound', caller, callee: pbx.number, extension: '101', disposition: 'answered', talk_seconds: 42, duration_seconds: 50 });
    await one.waitForFunction((want) => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="call-status"]')[0]?.getAttribute('data-status') === want, 'ended', { timeout: EVENTUAL_MS });
    expect(await one.getByTestId('call-pop').getByTestId('call-status').textContent()).toContain('Call ended (0:42)');
    await one.getByTestId('call-pop-answer').click();
    await one.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    requestId = one.url().split('/').pop()!;
    await untilVisible(one.getByTestId('comment').filter({ hasText: note }), () => one.reload(), EVENTUAL_MS);
  });

  it("puts the call on the contact's timeline and call history", async () => {
    const api = client(platform.base);
    const req = await api.send('GET', `/v1/requests/${requestId}`, team.admin.as);
    const contactId = req.body.contact_id as string;
    expect(contactId).toMatch(/^[0-9a-f-]{36}$/);
    await one.goto(`${platform.base}/contacts/${contactId}`);
    await untilVisible(one.locator('[data-testid="timeline-entry"][data-kind="call_answered"]'), () => one.reload(), EVENTUAL_MS);
    await one.getByTestId('contact-calls').getByTestId('call-row').first().waitFor({ timeout: EVENTUAL_MS });
    await one.screenshot({ path: join(SHOTS, 'telephony-contact.png') });
  });

  it('the same caller again is a known client; after a reload the live call pops again with its draft note', async () => {
    const second = `pbx2-${tag}`;
    await webhook({ type: 'call.ringing', call_id: second, direction: 'inbound', caller, callee: pbx.number, extensions: ['101'] });
    const pop = one.locator('[data-testid="call-pop"]').filter({ has: one.locator('[data-status="ringing"]') });
    await pop.waitFor({ timeout: EVENTUAL_MS });
    await pop.getByTestId('call-pop-note').fill(`второй ${tag}`);
    await one.reload();
    await one.locator('[data-testid="call-pop"]').filter({ has: one.locator('[data-status="ringing"]') }).waitFor({ timeout: EVENTUAL_MS });
    expect(await one.getByTestId('call-pop-note').first().inputValue()).toBe(`второй ${tag}`);
    // The card: the contact the first call made, with its last requests.
    await one.getByTestId('call-pop-known').waitFor({ timeout: EVENTUAL_MS });
    await one.screenshot({ path: join(SHOTS, 'telephony-known.png') });
    expect(await two.getByTestId('call-pop').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
