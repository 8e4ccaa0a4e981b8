/**
 * Forms as sites send them, through the real gateway to real identity and intake (gRPC, PostgreSQL,
 * Kafka): site builders' post formats (fixtures written from their docs), plain HTML form posts (303),
 * a form's field mapping and thank-you URL (identity's UpdatePublicForm), and bad input.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { uniqueName } from '@crm/testing';
import { Pool } from 'pg';
import { formFixtures, type FormFixture } from '../../gateway/test/fixtures/forms';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let base: string;
let tenants: Platform['tenants'];
let intakePool: Pool;

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

beforeAll(async () => {
  platform = await startPlatform();
  base = platform.base;
  tenants = platform.tenants;
  intakePool = new Pool({ connectionString: platform.intakeDbUrl, max: 2 });
});

afterAll(async () => {
  await intakePool?.end();
  await platform?.stop();
});

const submit = (formId: string, init: RequestInit) => fetch(`${base}/v1/forms/${formId}/submissions`, { method: 'POST', redirect: 'manual', ...init });

function fixtureInit(f: FormFixture): RequestInit {
  const headers = new Headers(f.headers);
  if (f.body !== undefined) {
    headers.set('content-type', f.contentType);
    return { headers, body: f.body };
  }
  if (f.parts) {
    const fd = new FormData();
    for (const [k, v] of f.parts) fd.append(k, v);
    return { headers, body: fd };
  }
  headers.set('content-type', 'application/json');
  return { headers, body: JSON.stringify(f.json) };
}

interface ApiRequest {
  name: string;
  attribution: Record<string, string>;
  extra_fields: { key: string; value: string }[];
  extra_fields_truncated: boolean;
}

async function getRequest(key: string, id: string): Promise<{ status: number; body: ApiRequest }> {
  const res = await fetch(`${base}/v1/requests/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as ApiRequest };
}

async function requestCount(tenantId?: string): Promise<number> {
  const r = tenantId ? await intakePool.query('SELECT count(*) AS n FROM requests WHERE tenant_id = $1', [tenantId]) : await intakePool.query('SELECT count(*) AS n FROM requests');
  return Number(r.rows[0].n);
}

async function latestByName(name: string) {
  const r = await intakePool.query('SELECT id, tenant_id, extra_fields, extra_fields_truncated FROM requests WHERE name = $1 ORDER BY created_at DESC', [name]);
  return r.rows as { id: string; tenant_id: string; extra_fields: [string, string][]; extra_fields_truncated: boolean }[];
}

describe("site builders' posts land with the right name, phone, e-mail and UTM tags", () => {
  it.each(formFixtures().map((f) => [f.builder, f] as const))('%s', async (_b, f) => {
    const res = await submit(tenants.a.formId, fixtureInit(f));
    // A form-encoded post from a server (Tilda's webhook) is answered 200, JSON 202.
    expect(res.status).toBe(f.contentType === 'application/json' ? 202 : 200);
    const accepted = (await res.json()) as { status: string; request_id: string };
    expect(accepted.status).toBe('accepted');
    const { status, body } = await getRequest(tenants.a.apiKey, accepted.request_id);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      channel: 'web_form',
      name: f.expected.name,
      phone: f.expected.phone,
      email: f.expected.email,
      message: f.expected.message,
      attribution: f.expected.attribution,
      extra_fields: f.expected.extra_fields,
      extra_fields_truncated: false,
    });
    // A webhook retried with the same submission id (Tilda's tranid, Webflow's id) is the same request.
    if (f.expected.submission_id) {
      const again = await submit(tenants.a.formId, fixtureInit(f));
      expect(((await again.json()) as { request_id: string }).request_id).toBe(accepted.request_id);
    }
  });

  it("answers Tilda's connection test (test=test) 200 and creates nothing", async () => {
    const before = await requestCount();
    const res = await submit(tenants.a.formId, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'test=test' });
    expect(res.status).toBe(200);
    expect(await requestCount()).toBe(before);
  });
});

describe('a plain HTML form post (a browser, no script)', () => {
  it('is answered 303 to the built-in thank-you page in the tenant language, then to the form\'s thank-you URL once set', async () => {
    const name = uniqueName('browser');
    const body = new URLSearchParams({ name, phone: '+7 916 555-00-11', company: 'ACME' }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT, referer: 'https://site.example/contact?utm_source=yandex&utm_medium=cpc' };
    const res = await submit(tenants.a.formId, { headers, body });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/forms/thank-you?lang=ru');
    const page = await fetch(`${base}${res.headers.get('location')}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Спасибо');
    const [row] = await latestByName(name);
    expect(row.extra_fields).toEqual([['company', 'ACME']]);
    const { body: req } = await getRequest(tenants.a.apiKey, row.id);
    expect(req.attribution).toMatchObject({ utm_source: 'yandex', utm_medium: 'cpc', landing_page: 'https://site.example/contact?utm_source=yandex&utm_medium=cpc' });

    // Tenant B's locale is English.
    const en = await submit(tenants.b.formId, { headers, body: new URLSearchParams({ name: uniqueName('en'), email: 'en@example.com' }).toString() });
    expect(en.headers.get('location')).toBe('/forms/thank-you?lang=en');

    const admin = createClient(IdentityServiceService, { address: platform.identityAddr });
    try {
      await admin.updatePublicForm(
        { id: tenants.a.formId, thankYouUrl: 'https://site.example/thanks', fieldMapping: { name: ['Контакт'], phone: [], email: [], message: ['Задача'] } },
        { tenantId: tenants.a.id, callerId: 'test', callerKind: 'service' },
      );
      const mapped = uniqueName('mapped');
      const multipart = new FormData();
      multipart.append('Контакт', mapped);
      multipart.append('email', 'mapped@example.com');
      multipart.append('Задача', 'Внедрение CRM');
      const after = await submit(tenants.a.formId, { headers: { accept: BROWSER_ACCEPT }, body: multipart });
      expect(after.status).toBe(303);
      expect(after.headers.get('location')).toBe('https://site.example/thanks');
      const [m] = await latestByName(mapped);
      expect((await getRequest(tenants.a.apiKey, m.id)).body).toMatchObject({ name: mapped, email: 'mapped@example.com', message: 'Внедрение CRM', extra_fields: [] });

      // A honeypot hit from a browser looks exactly like a success, and writes nothing.
      const before = await requestCount();
      const bot = await submit(tenants.a.formId, { headers, body: new URLSearchParams({ name: 'Bot', phone: '+79995554433', website: 'http://spam.example' }).toString() });
      expect(bot.status).toBe(303);
      expect(bot.headers.get('location')).toBe('https://site.example/thanks');
      expect(await requestCount()).toBe(before);
    } finally {
      await admin.updatePublicForm({ id: tenants.a.formId, thankYouUrl: '', fieldMapping: { name: [], phone: [], email: [], message: [] } }, { tenantId: tenants.a.id, callerId: 'test', callerKind: 'service' });
      admin.close();
    }
  });

  it('gets its errors as a small HTML page with the 4xx status', async () => {
    const res = await submit(tenants.a.formId, { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT }, body: 'name=x&phone=not-a-phone' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('Заявка не отправлена');
    const unknown = await submit('pf_doesnotexist0000', { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT }, body: 'phone=%2B79160000000' });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('data-status="404"');
  });
});

describe('bad input is a clear 4xx and writes nothing', () => {
  let before: number;
  beforeEach(async () => {
    before = await requestCount();
  });
  afterEach(async () => {
    expect(await requestCount()).toBe(before);
  });

  async function problemOf(res: Response) {
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    return (await res.json()) as { status: number; detail: string };
  }
  const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };

  it('malformed urlencoded', async () => {
    for (const body of ['name=%zz&phone=%2B79160000000', 'phone=%2B79160000000&name=%C3%28']) {
      const res = await submit(tenants.a.formId, { headers: urlencoded, body });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).detail).toMatch(/x-www-form-urlencoded/);
    }
  });

  it('an oversized body (413), urlencoded and multipart', async () => {
    // The platform's gateway has BODY_LIMIT_BYTES=16384.
    const big = `phone=%2B79160000000&message=${'x'.repeat(20_000)}`;
    expect((await submit(tenants.a.formId, { headers: urlencoded, body: big })).status).toBe(413);
    const fd = new FormData();
    fd.append('phone', '+79160000000');
    fd.append('message', 'x'.repeat(20_000));
    const res = await submit(tenants.a.formId, { body: fd });
    expect(res.status).toBe(413);
    await problemOf(res);
  });

  it('too many fields (413)', async () => {
    const body = ['phone=%2B79160000000', ...Array.from({ length: 200 }, (_, i) => `f${i}=1`)].join('&');
    const res = await submit(tenants.a.formId, { headers: urlencoded, body });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).detail).toMatch(/too many fields/);
    const json = await submit(tenants.a.formId, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, '1']))) });
    expect(json.status).toBe(413);
  });

  it('a file part (400)', async () => {
    const fd = new FormData();
    fd.append('phone', '+79160000000');
    fd.append('cv', new Blob(['%PDF-1.4 …'], { type: 'application/pdf' }), 'cv.pdf');
    const res = await submit(tenants.a.formId, { body: fd });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toMatch(/file uploads are not accepted/);
  });

  it('an unknown or malformed form id (404 / 400), a nested JSON value (400), a wrong content type (415)', async () => {
    expect((await submit('pf_doesnotexist0000', { headers: urlencoded, body: 'phone=%2B79160000000' })).status).toBe(404);
    expect((await submit('nope', { headers: urlencoded, body: 'phone=%2B79160000000' })).status).toBe(400);
    expect((await submit(tenants.a.formId, { headers: { 'content-type': 'application/json' }, body: '{"phone":{"x":1}}' })).status).toBe(400);
    const xml = await submit(tenants.a.formId, { headers: { 'content-type': 'application/xml' }, body: '<phone/>' });
    expect(xml.status).toBe(415);
    // The form parsers are scoped to the form route: the JSON API still answers 415 to a form body.
    const api = await fetch(`${base}/v1/requests`, { method: 'POST', headers: { ...urlencoded, authorization: `Bearer ${tenants.a.apiKey}` }, body: 'channel=phone' });
    expect(api.status).toBe(415);
  });

  it('a honeypot hit (accepted, nothing written)', async () => {
    const res = await submit(tenants.a.formId, { headers: urlencoded, body: 'name=Bot&phone=%2B79995554433&website=http%3A%2F%2Fspam.example' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted' });
  });
});

describe('tenancy and duplicates', () => {
  it("a form of tenant B creates only in B; a double-clicked submit is one request", async () => {
    const name = uniqueName('tenant-b');
    const body = new URLSearchParams({ name, phone: '+7 916 777-66-55' }).toString();
    const first = await submit(tenants.b.formId, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const second = await submit(tenants.b.formId, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const a = (await first.json()) as { request_id: string };
    const b = (await second.json()) as { request_id: string };
    expect(b.request_id).toBe(a.request_id);
    const rows = await latestByName(name);
    expect(rows).toHaveLength(1);
    expect(rows[0].tenant_id).toBe(tenants.b.id);
    expect((await getRequest(tenants.a.apiKey, a.request_id)).status).toBe(404);
    expect((await getRequest(tenants.b.apiKey, a.request_id)).status).toBe(200);
  });

  it('extra fields beyond the bounds are dropped and the request says so', async () => {
    const name = uniqueName('bounded');
    const fields = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field_${i}`, 'v'.repeat(10)]));
    const res = await submit(tenants.a.formId, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, phone: '+79160001122', ...fields }) });
    expect(res.status).toBe(202);
    const { body } = await getRequest(tenants.a.apiKey, ((await res.json()) as { request_id: string }).request_id);
    expect(body.extra_fields).toHaveLength(50);
    expect(body.extra_fields_truncated).toBe(true);
  });
});
