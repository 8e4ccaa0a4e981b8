/**
 * The first vertical slice end to end, with every process running: identity, intake, reporting and the
 * gateway as separate processes (as `npm start` runs them) on the real engines. A web-form request
 * reaches the journal with its axes, a repeat is recognised, ClickHouse counts both, a comment lands.
 */
import { stackUrls, testLogger, uniqueName, eventually, createRunTopics, kafkaFor } from '@crm/testing';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoTenant, type DemoCredentials } from '../../tools/src/demo';
import { dropPlatformData, startPlatformProcesses, type RunningPlatform } from '../../tools/src/platform';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const urls = stackUrls();
const prefix = `${uniqueName('e2e')}_`;
const chDatabase = uniqueName('e2e_reporting');
let platform: RunningPlatform;
let demo: DemoCredentials;
let base: string;

async function api(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${demo.apiKey}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API under test
  return { status: res.status, body: (await res.json()) as any };
}

async function submitForm(body: Record<string, string>) {
  // Exactly what the demo page's script sends: JSON, no credentials.
  const res = await fetch(`${base}/v1/forms/${demo.publicFormId}/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API under test
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const suffix = `.${uniqueName('slice')}`;
  await createRunTopics(kafkaFor(urls.kafkaBrokers, testLogger()), suffix);
  const ports = { identity: await freePort(), intake: await freePort(), reporting: await freePort(), contacts: await freePort(), funnel: await freePort(), telephony: await freePort(), gateway: await freePort() };
  const logDir = mkdtempSync(join(tmpdir(), 'crm-e2e-'));
  platform = await startPlatformProcesses(
    { DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl },
    { dbPrefix: prefix, clickhouseDatabase: chDatabase, topicSuffix: suffix, ports, logDir, logLevel: 'warn', gatewayEnv: { FORM_RATE_PER_IP: '1000' } },
  );
  base = platform.gatewayUrl;
  demo = await ensureDemoTenant(platform.addr.identity, join(logDir, 'demo.json'));
});

afterAll(async () => {
  await platform?.stop();
  await dropPlatformData({ DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl }, { dbPrefix: prefix, clickhouseDatabase: chDatabase });
});

describe('first vertical slice, every process running', () => {
  it('web form → journal with axes → repeat recognised → ClickHouse report counts both → comment', async () => {
    const page = await fetch(`${base}/demo/form?form=${demo.publicFormId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`/v1/forms/`);

    const first = await submitForm({ name: 'Иван', phone: '8 (999) 123-45-67', utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'spring', page_url: 'https://shop.example/landing?utm_source=yandex' });
    expect(first.status).toBe(202);
    const second = await submitForm({ name: 'Иван', phone: '+79991234567', utm_source: 'yandex', utm_campaign: 'spring' });
    expect(second.status).toBe(202);

    const journal = await api('/v1/requests?channel=web_form');
    expect(journal.status).toBe(200);
    const byId = new Map(journal.body.items.map((r: { id: string }) => [r.id, r]));
    const r1 = byId.get(first.body.request_id) as { axes: Record<string, string>; phone: string; attribution: Record<string, string>; state: string };
    const r2 = byId.get(second.body.request_id) as { axes: Record<string, string>; phone: string };
    expect(r1).toMatchObject({ state: 'new', phone: '+79991234567', axes: { number: 'primary', contact: 'unverified', channel: 'web_form', meaning: 'unknown', qualification: 'pending' } });
    expect(r1.attribution).toMatchObject({ utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'spring', landing_page: 'https://shop.example/landing?utm_source=yandex' });
    expect(r2).toMatchObject({ phone: '+79991234567', axes: { number: 'repeat' } });

    // The demo tenant counts its days in Moscow time (en-CA writes dates as YYYY-MM-DD).
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date());
    const report = await eventually(() => api(`/v1/reports/requests-per-day?from=${today}&to=${today}`), {
      until: (r) => r.status === 200 && r.body.items.some((i: { channel: string; utm_source: string; requests: number }) => i.channel === 'web_form' && i.utm_source === 'yandex' && i.requests === 2),
      timeoutMs: 30_000,
      message: 'the ClickHouse report counts both requests',
    });
    expect(report.body.items).toContainEqual({ day: today, channel: 'web_form', utm_source: 'yandex', requests: 2 });
    expect(report.body.time_zone).toBe('Europe/Moscow');

    const comment = await api(`/v1/requests/${first.body.request_id}/comments`, { method: 'POST', body: JSON.stringify({ text: 'Перезвонить после обеда' }) });
    expect(comment.status).toBe(201);
    const after = await api(`/v1/requests/${first.body.request_id}`);
    expect(after.body).toMatchObject({ state: 'new', comment_count: 1 });
    const comments = await api(`/v1/requests/${first.body.request_id}/comments`);
    expect(comments.body.items.map((c: { text: string }) => c.text)).toEqual(['Перезвонить после обеда']);
  });
});
