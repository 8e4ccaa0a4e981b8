/**
 * The gateway in front of real identity and intake services (real gRPC over loopback, real PostgreSQL
 * and Kafka), called over real HTTP: authentication, validation, problem+json errors, tenancy,
 * idempotency, public forms.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { eventually } from '@crm/testing';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let base: string;
let tenants: Platform['tenants'];
let intakePool: Pool;

async function api(path: string, init: RequestInit & { key?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function rows(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await intakePool.query(sql, params)).rows[0].n);
}

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

describe('gateway → identity, intake', () => {
  it('creates, lists, gets and comments on a request with an API key', async () => {
    const created = await api('/v1/requests', {
      method: 'POST',
      key: tenants.a.apiKey,
      body: JSON.stringify({ channel: 'web_form', name: 'Анна', phone: '8 (999) 123-45-67', attribution: { utm_source: 'yandex', utm_campaign: 'spring' } }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'new', channel: 'web_form', phone: '+79991234567', axes: { number: 'primary', contact: 'unverified', meaning: 'unknown', qualification: 'pending' } });
    expect(created.body.attribution.utm_source).toBe('yandex');
    const again = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', phone: '+79991234567' }) });
    expect(again.body.axes.number).toBe('repeat');

    const list = await api('/v1/requests?limit=1&channel=web_form', { key: tenants.a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.next_cursor).toBeTruthy();
    const page2 = await api(`/v1/requests?limit=1&channel=web_form&cursor=${encodeURIComponent(list.body.next_cursor)}`, { key: tenants.a.apiKey });
    expect(page2.body.items[0].id).toBe(created.body.id);

    const comment = await api(`/v1/requests/${created.body.id}/comments`, { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ text: 'перезвонить завтра' }) });
    expect(comment.status).toBe(201);
    const got = await api(`/v1/requests/${created.body.id}`, { key: tenants.a.apiKey });
    expect(got.body).toMatchObject({ state: 'new', comment_count: 1 });
    const comments = await api(`/v1/requests/${created.body.id}/comments`, { key: tenants.a.apiKey });
    expect(comments.body.items.map((c: { text: string }) => c.text)).toEqual(['перезвонить завтра']);
  });

  it('answers bad input with the right 4xx problem+json and writes nothing', async () => {
    const before = await rows('SELECT count(*) AS n FROM requests');
    const outboxBefore = await rows('SELECT count(*) AS n FROM outbox');
    const cases: [string, RequestInit & { key?: string }, number][] = [
      ['malformed JSON', { method: 'POST', key: tenants.a.apiKey, body: '{"channel": "web_form",' }, 400],
      ['unknown field', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', phone: '+79991234567', admin: true }) }, 400],
      ['oversized body', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', message: 'x'.repeat(20_000) }) }, 413],
      ['invalid phone', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', phone: '12' }) }, 400],
      ['no credential', { method: 'POST', body: JSON.stringify({ channel: 'web_form', phone: '+79991234567' }) }, 401],
      ['wrong API key', { method: 'POST', key: 'crm_deadbeef_nottherightsecretatallxxxxxxxxxxx', body: JSON.stringify({ channel: 'web_form', phone: '+79991234567' }) }, 401],
      ['wrong content type', { method: 'POST', key: tenants.a.apiKey, headers: { 'content-type': 'text/xml' }, body: '<x/>' }, 415],
    ];
    for (const [name, init, status] of cases) {
      const res = await api('/v1/requests', init);
      expect({ name, status: res.status }).toEqual({ name, status });
      expect({ name, type: res.type }).toEqual({ name, type: expect.stringContaining('application/problem+json') });
      expect(res.body).toMatchObject({ status, title: expect.any(String) });
    }
    const unknown = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', phone: '+79991234567', admin: true }) });
    expect(unknown.body.errors).toEqual([{ field: 'admin', message: 'unknown field' }]);
    const phone = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'web_form', phone: '12' }) });
    expect(phone.body.errors.map((e: { field: string }) => e.field)).toContain('phone');
    expect(await rows('SELECT count(*) AS n FROM requests')).toBe(before);
    expect(await rows('SELECT count(*) AS n FROM outbox')).toBe(outboxBefore);
  });

  it("hides another tenant's request behind 404, never 403", async () => {
    const mine = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'email', email: 'Client@Example.com' }) });
    const other = await api(`/v1/requests/${mine.body.id}`, { key: tenants.b.apiKey });
    expect(other.status).toBe(404);
    expect(other.type).toContain('application/problem+json');
    const comment = await api(`/v1/requests/${mine.body.id}/comments`, { method: 'POST', key: tenants.b.apiKey, body: JSON.stringify({ text: 'not mine' }) });
    expect(comment.status).toBe(404);
    const list = await api('/v1/requests', { key: tenants.b.apiKey });
    expect(list.body.items.map((r: { id: string }) => r.id)).not.toContain(mine.body.id);
    expect(await rows('SELECT count(*) AS n FROM request_comments WHERE request_id = $1', [mine.body.id])).toBe(0);
  });

  it('a revoked API key is refused with 401', async () => {
    const admin = createClient(IdentityServiceService, { address: platform.identityAddr });
    const ctx = { tenantId: tenants.b.id, callerId: 'e2e', callerKind: 'service' as const };
    const key = await admin.createApiKey({ name: 'short-lived', scopes: ['requests:read'] }, ctx);
    expect((await api('/v1/requests', { key: key.secret })).status).toBe(200);
    await admin.revokeApiKey({ id: key.key!.id }, ctx);
    admin.close();
    const res = await api('/v1/requests', { key: key.secret });
    expect(res.status).toBe(401);
    expect(res.type).toContain('application/problem+json');
  });

  it('50 concurrent POSTs with one Idempotency-Key create one request and all get the same response; another body is a 422', async () => {
    const key = `idem-${Date.now()}`;
    const body = JSON.stringify({ channel: 'web_form', name: 'Idem', phone: '+79990001122' });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, headers: { 'idempotency-key': key }, body })),
    );
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(await rows('SELECT count(*) AS n FROM requests WHERE idempotency_key = $1', [key])).toBe(1);
    const different = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, headers: { 'idempotency-key': key }, body: JSON.stringify({ channel: 'web_form', phone: '+79990009999' }) });
    expect(different.status).toBe(422);
    expect(different.type).toContain('application/problem+json');
    expect(await rows('SELECT count(*) AS n FROM requests WHERE idempotency_key = $1', [key])).toBe(1);
  });

  it('accepts a public form without a secret, ignores a filled honeypot, and rejects an unknown form', async () => {
    const before = await rows('SELECT count(*) AS n FROM requests');
    const ok = await fetch(`${base}/v1/forms/${tenants.b.formId}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Форма', phone: '+7 999 555-44-33', utm_source: 'google', page_url: 'https://example.com/landing?utm_source=google' }),
    });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const bot = await fetch(`${base}/v1/forms/${tenants.b.formId}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bot', phone: '+79995554433', website: 'http://spam.example' }),
    });
    expect(bot.status).toBe(202);
    expect(await rows('SELECT count(*) AS n FROM requests')).toBe(before + 1);
    const list = await api('/v1/requests?channel=web_form', { key: tenants.b.apiKey });
    expect(list.body.items[0]).toMatchObject({ name: 'Форма', phone: '+79995554433', attribution: { utm_source: 'google', landing_page: 'https://example.com/landing?utm_source=google' } });
    const unknown = await fetch(`${base}/v1/forms/pf_doesnotexist0000/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phone":"+79995554433"}' });
    expect(unknown.status).toBe(404);
  });

  it('logs in with a session cookie; cookie writes need the CSRF header', async () => {
    const login = await fetch(`${base}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: tenants.a.slug, email: 'admin@a.test', password: 'correct horse battery' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const me = await api('/v1/me', { headers: { cookie } });
    expect(me.body).toMatchObject({ tenant_id: tenants.a.id, kind: 'user', roles: ['admin'] });
    const noCsrf = await api('/v1/requests', { method: 'POST', headers: { cookie }, body: JSON.stringify({ channel: 'chat', name: 'x', email: 'x@example.com' }) });
    expect(noCsrf.status).toBe(403);
    const withCsrf = await api('/v1/requests', { method: 'POST', headers: { cookie, 'x-crm-csrf': '1' }, body: JSON.stringify({ channel: 'chat', name: 'x', email: 'x@example.com' }) });
    expect(withCsrf.status).toBe(201);
    const wrong = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: tenants.a.slug, email: 'admin@a.test', password: 'nope' }) });
    expect(wrong.status).toBe(401);
  });

  it("pushes the tenant's new requests and comments over Server-Sent Events, and only its own", async () => {
    async function open(key: string) {
      const ctrl = new AbortController();
      const res = await fetch(`${base}/v1/requests/stream`, { headers: { authorization: `Bearer ${key}` }, signal: ctrl.signal });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events: { type: string; request?: { id: string }; comment?: { request_id: string } }[] = [];
      const reader = res.body!.getReader();
      let buf = '';
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            buf += new TextDecoder().decode(value);
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '));
              buf = buf.slice(i + 2);
              if (data) events.push(JSON.parse(data.slice(6)));
            }
          }
        } catch {
          // aborted
        }
      })();
      return { events, close: () => ctrl.abort() };
    }
    const a = await open(tenants.a.apiKey);
    const b = await open(tenants.b.apiKey);
    try {
      const created = await api('/v1/requests', { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ channel: 'chat', name: 'Live', email: 'live@example.com' }) });
      await api(`/v1/requests/${created.body.id}/comments`, { method: 'POST', key: tenants.a.apiKey, body: JSON.stringify({ text: 'live comment' }) });
      await eventually(() => a.events.length, { until: (n) => n >= 2, message: 'two events on the stream' });
      expect(a.events.find((e) => e.type === 'request.created')?.request?.id).toBe(created.body.id);
      expect(a.events.find((e) => e.type === 'request.commented')?.comment?.request_id).toBe(created.body.id);
      expect(b.events.filter((e) => e.request?.id === created.body.id || e.comment?.request_id === created.body.id)).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('limits calls per credential with 429 and Retry-After', async () => {
    // startPlatform's gateway allows 300 calls per credential per minute; a fresh key spends them. The
    // windows are aligned to the minute: 700 calls reach 429 even when a minute ends among them.
    const admin = createClient(IdentityServiceService, { address: platform.identityAddr });
    const key = await admin.createApiKey({ name: 'greedy', scopes: ['requests:read'] }, { tenantId: tenants.b.id, callerId: 'e2e', callerKind: 'service' });
    admin.close();
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 700 && !limited; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => api('/v1/me', { key: key.secret })));
      limited = batch.find((r) => r.status === 429);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited?.type).toContain('application/problem+json');
  });

  it('serves the OpenAPI 3.1 document and the docs page', async () => {
    const doc = await api('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/requests', '/v1/requests/{id}', '/v1/forms/{publicFormId}/submissions', '/v1/reports/requests-per-day']));
    const docs = await fetch(`${base}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
  });
});
