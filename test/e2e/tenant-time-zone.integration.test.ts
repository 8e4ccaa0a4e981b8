/**
 * The tenant's time zone through the gateway, over real HTTP against real identity and reporting
 * (ClickHouse 18.16 here): set and read by an admin (`GET/PATCH /v1/tenant`), carried in `GET /v1/me`,
 * used by the report to count days, overridable per call, and one tenant's zone never moves another's
 * days. Bad zones are a 400 problem at the edge.
 */
import type { RunningReporting } from '@crm/reporting/src/app';
import { reportRequestRow, startPlatform, type Platform } from '../support/platform';

let reporting: RunningReporting;
let platform: Platform;
let base: string;

interface Reply {
  status: number;
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API under test
  body: any;
}

async function call(path: string, init: RequestInit & { key?: string; cookie?: string } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.cookie) headers.set('cookie', init.cookie);
  if (init.cookie && init.method && init.method !== 'GET') headers.set('x-crm-csrf', '1');
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
}

async function login(tenant: 'a' | 'b'): Promise<string> {
  const t = platform.tenants[tenant];
  const res = await fetch(`${base}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: t.slug, email: t.adminEmail, password: t.adminPassword }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0];
}

const perDay = (body: { items: { day: string; requests: number }[] }) => Object.fromEntries(body.items.map((i) => [i.day, i.requests]));

beforeAll(async () => {
  platform = await startPlatform({ reporting: true });
  reporting = platform.reporting!;
  base = platform.base;
});

afterAll(async () => {
  await platform?.stop();
});

describe('tenant time zone through the gateway', () => {
  it('is read and changed by an admin, shown in /v1/me, and counts report days for that tenant only', async () => {
    const { a, b } = platform.tenants;
    // 23:30 and 00:30 Moscow time (UTC+3) on the night of March 1st → 2nd, for both tenants.
    await reporting.clickhouse.insert('requests', [
      reportRequestRow(a.id, '2026-03-01T20:30:00Z'),
      reportRequestRow(a.id, '2026-03-01T21:30:00Z'),
      reportRequestRow(b.id, '2026-03-01T20:30:00Z'),
      reportRequestRow(b.id, '2026-03-01T21:30:00Z'),
    ]);
    const cookieA = await login('a');
    const cookieB = await login('b');
    const report = (auth: { key?: string; cookie?: string }, query = '') => call(`/v1/reports/requests-per-day?from=2026-03-01&to=2026-03-02${query}`, auth);

    // Created without a zone: UTC, one day.
    expect((await call('/v1/tenant', { cookie: cookieA })).body).toMatchObject({ id: a.id, slug: a.slug, time_zone: 'UTC' });
    expect((await report({ key: a.apiKey })).body).toEqual({ time_zone: 'UTC', items: [{ day: '2026-03-01', channel: 'web_form', utm_source: '', requests: 2 }] });

    // The admin of A moves A to Moscow.
    const patched = await call('/v1/tenant', { method: 'PATCH', cookie: cookieA, body: JSON.stringify({ time_zone: 'Europe/Moscow' }) });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: a.id, time_zone: 'Europe/Moscow', locale: 'ru' });
    expect(patched.body.created_at).toMatch(/Z$/); // the API keeps UTC timestamps
    expect((await call('/v1/me', { cookie: cookieA })).body).toMatchObject({ tenant_id: a.id, time_zone: 'Europe/Moscow' });
    expect((await call('/v1/me', { key: a.apiKey })).body).toMatchObject({ tenant_id: a.id, time_zone: 'Europe/Moscow' });

    // A's report now counts Moscow days; the query can still ask for another zone.
    const moscow = await report({ key: a.apiKey });
    expect(moscow.body.time_zone).toBe('Europe/Moscow');
    expect(perDay(moscow.body)).toEqual({ '2026-03-01': 1, '2026-03-02': 1 });
    const utc = await report({ key: a.apiKey }, '&time_zone=UTC');
    expect(utc.body.time_zone).toBe('UTC');
    expect(perDay(utc.body)).toEqual({ '2026-03-01': 2 });
    expect((await report({ key: a.apiKey }, '&time_zone=europe/berlin')).body.time_zone).toBe('Europe/Berlin');

    // B is untouched: same rows, still UTC.
    expect((await call('/v1/me', { cookie: cookieB })).body).toMatchObject({ tenant_id: b.id, time_zone: 'UTC' });
    expect((await call('/v1/tenant', { cookie: cookieB })).body.time_zone).toBe('UTC');
    const reportB = await report({ key: b.apiKey });
    expect(reportB.body.time_zone).toBe('UTC');
    expect(perDay(reportB.body)).toEqual({ '2026-03-01': 2 });
  });

  it('answers bad zones with a 400 problem, and non-admins with a 403', async () => {
    const { a } = platform.tenants;
    const cookie = await login('a');
    const bad: [string, RequestInit & { key?: string; cookie?: string }][] = [
      ['/v1/tenant', { method: 'PATCH', cookie, body: JSON.stringify({ time_zone: 'Mars/Olympus' }) }],
      ['/v1/tenant', { method: 'PATCH', cookie, body: JSON.stringify({ time_zone: '+03:00' }) }],
      ['/v1/tenant', { method: 'PATCH', cookie, body: JSON.stringify({ time_zone: '' }) }],
      ['/v1/tenant', { method: 'PATCH', cookie, body: JSON.stringify({ time_zone: 'UTC', locale: 'en' }) }],
      ['/v1/reports/requests-per-day?from=2026-03-01&to=2026-03-02&time_zone=Mars/Olympus', { key: a.apiKey }],
      ['/v1/reports/requests-per-day?from=2026-03-01&to=2026-03-02&time_zone=%2B03:00', { key: a.apiKey }],
      ["/v1/reports/requests-per-day?from=2026-03-01&to=2026-03-02&time_zone=UTC')--", { key: a.apiKey }],
    ];
    for (const [path, init] of bad) {
      const res = await call(path, init);
      expect({ path, body: init.body, status: res.status, type: res.type }).toEqual({ path, body: init.body, status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    }
    // Nothing changed.
    expect((await call('/v1/tenant', { cookie })).body.time_zone).not.toBe('Mars/Olympus');

    // The partner API key has no identity:admin scope.
    expect((await call('/v1/tenant', { key: a.apiKey })).status).toBe(403);
    expect((await call('/v1/tenant', { method: 'PATCH', key: a.apiKey, body: JSON.stringify({ time_zone: 'UTC' }) })).status).toBe(403);
  });
});
