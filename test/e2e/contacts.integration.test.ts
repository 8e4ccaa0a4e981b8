/**
 * The contacts REST API through the gateway, over real HTTP, in front of real identity, intake and
 * contacts services (real gRPC, PostgreSQL, Kafka): bad input on every write route, 409s naming the
 * owner, idempotency, tenancy driven from the OpenAPI document (every path with an id, called with the
 * other tenant's credentials on this tenant's objects, is a 404), the import upload's own size limit
 * (a 2 GB Content-Length is refused before the body is read) and the CSV export's BOM.
 */
import { PointType, ContactsServiceService, ProvenanceKind } from '@crm/contracts/crm/contacts/v1/contacts';
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { eventually } from '@crm/testing';
import { connect } from 'node:net';
import { startPlatform, type Platform } from '../support/platform';

/** The import limit of this run's gateway (small, so a chunked body can cross it quickly). */
const IMPORT_MAX = 64 * 1024;
// The deal scopes too: the sweep below reaches /v1/requests/{id}/deals, convert and attach.
const SCOPES = ['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'deals:read', 'deals:write'];

let platform: Platform;
let base: string;
const keys = { a: '', b: '', requestsOnly: '' };
let tenantIds = { a: '', b: '' };

interface Res {
  status: number;
  type: string;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
}

async function api(path: string, init: RequestInit & { key?: string } = {}): Promise<Res> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${init.key ?? keys.a}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text && json ? JSON.parse(text) : text };
}

const post = (path: string, body: unknown, key = keys.a, headers: Record<string, string> = {}) => api(path, { method: 'POST', key, headers, body: JSON.stringify(body) });

/** A phone number of this run that no other test uses: +7 999 <7 digits>. */
let phoneSeq = Math.floor(Math.random() * 1_000_000);
const newPhone = () => `+7999${String(1_000_000 + (phoneSeq++ % 8_000_000)).padStart(7, '0')}`;

const phoneOf = (contact: { points: { type: string; value: string }[] }) => contact.points.find((p) => p.type === 'phone')!.value;

async function createContact(name: string, points: { type: string; value: string; network?: string }[], key = keys.a) {
  const res = await post('/v1/contacts', { name, points }, key);
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  return res.body;
}

beforeAll(async () => {
  // The platform's contacts service behind its gateway, with a small import limit and room for many calls.
  platform = await startPlatform({ gatewayEnv: { GATEWAY_IMPORT_MAX_BYTES: String(IMPORT_MAX), API_RATE_PER_CREDENTIAL: '100000' } });
  base = platform.base;
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  for (const t of ['a', 'b'] as const) {
    const ctx = { tenantId: platform.tenants[t].id, callerId: 'e2e', callerKind: 'service' as const };
    keys[t] = (await identity.createApiKey({ name: 'contacts', scopes: SCOPES }, ctx)).secret;
  }
  keys.requestsOnly = platform.tenants.a.apiKey;
  tenantIds = { a: platform.tenants.a.id, b: platform.tenants.b.id };
  identity.close();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe('the gateway alone (no contacts call is needed to answer)', () => {
  /** Every write route with a JSON body, with a valid body for it. */
  const id = '01936f5e-1234-7abc-8def-0123456789ab';
  const writes: [string, string, Record<string, unknown>][] = [
    ['POST', '/v1/contacts', { name: 'Анна', points: [{ type: 'phone', value: '+79991234567' }] }],
    ['PATCH', `/v1/contacts/${id}`, { name: 'Анна' }],
    ['POST', `/v1/contacts/${id}/points`, { type: 'email', value: 'a@example.com' }],
    ['PUT', `/v1/contacts/${id}/points/${id}/verification`, { verification: 'verified' }],
    ['POST', '/v1/merges', { survivor_id: id, loser_id: id }],
    ['POST', '/v1/companies', { name: 'ООО Ромашка' }],
    ['PATCH', `/v1/companies/${id}`, { name: 'ООО Ромашка' }],
    ['PUT', `/v1/companies/${id}/contacts/${id}`, { role: 'director' }],
    ['POST', '/v1/client-cards', { contact_id: id, kind: 'direct' }],
    ['PATCH', `/v1/client-cards/${id}`, { owner_id: null }],
    ['POST', `/v1/client-cards/${id}/state`, { state: 'former', reason: 'ушёл' }],
    ['POST', `/v1/imports/${id}/analyse`, { encoding: 'utf-8' }],
    ['POST', `/v1/imports/${id}/start`, { mapping: [{ column: 0, field: 'name' }] }],
  ];

  it.each(writes)('%s %s: malformed JSON, an unknown field and an oversized body are 400/400/413 problems', async (method, path, valid) => {
    const cases: [string, string, number][] = [
      ['malformed JSON', JSON.stringify(valid).slice(0, -1), 400],
      ['unknown field', JSON.stringify({ ...valid, admin: true }), 400],
      ['oversized', JSON.stringify({ ...valid, padding: 'x'.repeat(20_000) }), 413],
    ];
    for (const [name, body, status] of cases) {
      const res = await api(path, { method, body });
      expect({ name, status: res.status, type: res.type }).toEqual({ name, status, type: expect.stringContaining('application/problem+json') });
      expect(res.body).toMatchObject({ status, title: expect.any(String), instance: path });
    }
    const unknown = await api(path, { method, body: JSON.stringify({ ...valid, admin: true }) });
    expect(unknown.body.errors).toContainEqual({ field: 'admin', message: 'unknown field' });
  });

  it('refuses bad points and ids by the schema: a blank value, a social point without network, a non-uuid id', async () => {
    for (const body of [
      { points: [{ type: 'phone', value: '   ' }] },
      { points: [{ type: 'social', value: 'ivan' }] },
      { points: [{ type: 'email', value: 'a@b.c', network: 'vk' }] },
      { points: [{ type: 'fax', value: '123' }] },
      { company_id: 'not-a-uuid' },
    ]) {
      const res = await post('/v1/contacts', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await api('/v1/contacts/not-a-uuid')).status).toBe(400);
    expect((await api('/v1/contacts?page_size=101')).status).toBe(400);
    expect((await api('/v1/contacts/lookup?phone=%2B79991234567&email=a%40b.c')).status).toBe(400);
    expect((await api('/v1/contacts/lookup?network=vk')).status).toBe(400);
    expect((await api('/v1/contacts', { method: 'POST', headers: { 'idempotency-key': 'has space' }, body: '{}' })).status).toBe(400);
  });

  it('needs the contacts scopes: a key with only requests scopes is a 403', async () => {
    for (const [method, path] of [
      ['GET', '/v1/contacts'],
      ['GET', '/v1/bases/cold'],
      ['GET', '/v1/exports/contacts.csv'],
    ]) {
      const res = await api(path, { method, key: keys.requestsOnly });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect((await post('/v1/contacts', { name: 'x' }, keys.requestsOnly)).status).toBe(403);
  });

  it('refuses an upload with a 2 GB Content-Length with a 413 without reading the body', async () => {
    const url = new URL(base);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          [
            'POST /v1/imports?file_name=huge.csv HTTP/1.1',
            `Host: ${url.host}`,
            `Authorization: Bearer ${keys.a}`,
            'Content-Type: text/csv',
            `Content-Length: ${2 * 1024 ** 3}`,
            '',
            'name;phone\r\n',
          ].join('\r\n'),
        );
      });
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n\r\n') && got.includes('}')) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
      setTimeout(() => reject(new Error(`no answer within 10 s: ${got}`)), 10_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('application/problem+json');
    // Nothing close to 2 GB was sent or waited for.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('counts a chunked upload and refuses it with a 413 once it passes the limit', async () => {
    async function* chunks() {
      for (let i = 0; i < 40; i++) yield new TextEncoder().encode(`Имя ${i};+7999${String(i).padStart(7, '0')}\n`.padEnd(4000, ' '));
    }
    const res = await fetch(`${base}/v1/imports?file_name=chunked.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.a}`, 'content-type': 'text/csv' },
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses an upload of another media type (415) and an empty one (400)', async () => {
    expect((await api('/v1/imports', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' })).status).toBe(415);
    const empty = await api('/v1/imports', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: '' });
    expect(empty.status).toBe(400);
    expect((await api('/v1/imports?file_name=a.csv&admin=1', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a;b\n' })).status).toBe(400);
  });
});

describe('contacts through the gateway', () => {
  it('creates, reads, searches, changes and looks up a contact; its points keep verification and provenance', async () => {
    const phone = newPhone();
    const typed = `8 (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8, 10)}-${phone.slice(10)}`;
    const created = await post('/v1/contacts', { name: 'Анна Смирнова', points: [{ type: 'phone', value: typed }, { type: 'email', value: `Anna.${phoneSeq}@Example.com` }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/contacts/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'Анна Смирнова', version: expect.any(Number) });
    expect(created.body).not.toHaveProperty('merged_into_id');
    expect(created.body.points).toContainEqual(expect.objectContaining({ type: 'phone', value: phone, verification: 'unverified' }));
    const id = created.body.id;

    expect((await api(`/v1/contacts/${id}`)).body).toMatchObject({ id, request_count: 0 });
    const found = await api(`/v1/contacts?query=${encodeURIComponent('анна')}`);
    expect(found.body.items.map((c: { id: string }) => c.id)).toContain(id);
    const byDigits = await api(`/v1/contacts?query=${phone.slice(5)}`);
    expect(byDigits.body.items.map((c: { id: string }) => c.id)).toContain(id);
    const lookup = await api(`/v1/contacts/lookup?phone=${encodeURIComponent(typed)}`);
    expect(lookup).toMatchObject({ status: 200, body: { id } });

    const v = created.body.version;
    const renamed = await api(`/v1/contacts/${id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Анна Петровна', expected_version: v }) });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Анна Петровна' } });
    const stale = await api(`/v1/contacts/${id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Старое', expected_version: v }) });
    expect(stale.status).toBe(409);

    const added = await post(`/v1/contacts/${id}/points`, { type: 'social', network: 'telegram', value: `@Anna_${phoneSeq}` });
    expect(added.status).toBe(201);
    const tg = added.body.points.find((p: { type: string }) => p.type === 'social');
    expect(tg).toMatchObject({ network: 'telegram', value: `telegram:anna_${phoneSeq}` });
    const verified = await api(`/v1/contacts/${id}/points/${tg.id}/verification`, { method: 'PUT', body: JSON.stringify({ verification: 'verified' }) });
    expect(verified.body.points.find((p: { id: string }) => p.id === tg.id)).toMatchObject({ verification: 'verified', verified_by: expect.any(String) });
    const removed = await api(`/v1/contacts/${id}/points/${tg.id}`, { method: 'DELETE' });
    expect(removed.body.points.map((p: { id: string }) => p.id)).not.toContain(tg.id);

    // Its personal card, its (empty) requests and merges, its timeline.
    const cards = await api(`/v1/client-cards?contact_id=${id}`);
    expect(cards.body.items).toEqual([expect.objectContaining({ contact_id: id, state: 'not_client', kind: 'direct' })]);
    expect((await api(`/v1/contacts/${id}/requests`)).body).toEqual({ items: [], next_cursor: null });
    expect((await api(`/v1/contacts/${id}/merges`)).body).toEqual({ items: [] });
    expect((await api(`/v1/contacts/${id}/timeline`)).status).toBe(200);
  });

  it('a point another contact has is a 409 naming the owner; nothing is written', async () => {
    const phone = newPhone();
    const owner = await createContact('Владелец', [{ type: 'phone', value: phone }]);
    const before = (await api('/v1/contacts?page_size=100')).body.items.length;
    const typedOtherwise = `+7 ${phone.slice(2, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;
    const dup = await post('/v1/contacts', { name: 'Другой', points: [{ type: 'phone', value: typedOtherwise }] });
    expect(dup.status).toBe(409);
    expect(dup.type).toContain('application/problem+json');
    expect(dup.body).toMatchObject({ status: 409, owner_contact_id: owner.id, owner: `/v1/contacts/${owner.id}` });
    expect((await api('/v1/contacts?page_size=100')).body.items.length).toBe(before);

    const other = await createContact('Третий', [{ type: 'email', value: `third.${phoneSeq}@example.com` }]);
    const add = await post(`/v1/contacts/${other.id}/points`, { type: 'phone', value: phone });
    expect(add.body).toMatchObject({ status: 409, owner_contact_id: owner.id });
    expect((await api(`/v1/contacts/${other.id}`)).body.points).toHaveLength(1);
  });

  it('an invalid phone or e-mail is a 400 naming the field', async () => {
    for (const point of [
      { type: 'phone', value: '12' },
      { type: 'email', value: 'not an email' },
    ]) {
      const res = await post('/v1/contacts', { name: 'Bad', points: [point] });
      expect({ point, status: res.status }).toEqual({ point, status: 400 });
      expect(res.body.errors?.length).toBeGreaterThan(0);
    }
  });

  it('Idempotency-Key replays the first contact; the same key with another body is a 422', async () => {
    const key = `contact-${Date.now()}`;
    const body = { name: 'Idem', points: [{ type: 'phone', value: newPhone() }] };
    const first = await post('/v1/contacts', body, keys.a, { 'idempotency-key': key });
    const again = await post('/v1/contacts', body, keys.a, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 201, body: { id: first.body.id } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await post('/v1/contacts', { ...body, name: 'Other' }, keys.a, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.type).toContain('application/problem+json');
  });

  it('merges two contacts (201) and undoes the merge; a merge with itself is a 400, undoing twice a 409', async () => {
    const a = await createContact('Слияние А', [{ type: 'phone', value: newPhone() }]);
    const b = await createContact('Слияние Б', [{ type: 'phone', value: newPhone() }]);
    expect((await post('/v1/merges', { survivor_id: a.id, loser_id: a.id })).status).toBe(400);
    const merged = await post('/v1/merges', { survivor_id: a.id, loser_id: b.id });
    expect(merged.status).toBe(201);
    expect(merged.body.survivor.points).toHaveLength(2);
    expect((await api(`/v1/contacts/${b.id}`)).body.merged_into_id).toBe(a.id);
    expect((await api(`/v1/contacts/${a.id}/merges`)).body.items.map((m: { id: string }) => m.id)).toEqual([merged.body.merge.id]);
    const undone = await post(`/v1/merges/${merged.body.merge.id}/undo`, undefined);
    expect(undone.status).toBe(200);
    expect(undone.body.loser.id).toBe(b.id);
    expect(undone.body.loser).not.toHaveProperty('merged_into_id');
    expect((await api(`/v1/contacts/${a.id}`)).body.points).toHaveLength(1);
    expect((await post(`/v1/merges/${merged.body.merge.id}/undo`, undefined)).status).toBe(409);
  });

  it('companies: a wrong INN is a 400, a taken one a 409 naming the owner; contacts link with roles', async () => {
    expect((await post('/v1/companies', { name: 'Плохой ИНН', tax_id: '7707083890' })).status).toBe(400);
    const inn = '7707083893';
    let owner = await post('/v1/companies', { name: 'ООО «Ромашка»', tax_id: inn, addresses: [{ kind: 'legal', text: 'Москва' }] });
    if (owner.status === 409) owner = await api(`/v1/companies/${owner.body.owner_company_id}`);
    expect([200, 201]).toContain(owner.status);
    const taken = await post('/v1/companies', { name: 'Другая', tax_id: inn });
    expect(taken.body).toMatchObject({ status: 409, owner_company_id: owner.body.id, owner: `/v1/companies/${owner.body.id}` });
    const person = await createContact('Директор', [{ type: 'phone', value: newPhone() }]);
    const linked = await api(`/v1/companies/${owner.body.id}/contacts/${person.id}`, { method: 'PUT', body: JSON.stringify({ role: 'director' }) });
    expect(linked.body.contacts).toContainEqual({ contact_id: person.id, role: 'director', contact_name: 'Директор' });
    const unlinked = await api(`/v1/companies/${owner.body.id}/contacts/${person.id}`, { method: 'DELETE' });
    expect(unlinked.body.contacts.map((c: { contact_id: string }) => c.contact_id)).not.toContain(person.id);
  });

  it('client cards: a state change needs a reason and lands in the history; the disconnected base lists former cards', async () => {
    const person = await createContact('Карточка', [{ type: 'phone', value: newPhone() }]);
    const card = (await api(`/v1/client-cards?contact_id=${person.id}`)).body.items[0];
    const potential = await post(`/v1/client-cards/${card.id}/state`, { state: 'potential', reason: 'позвонил сам' });
    expect(potential).toMatchObject({ status: 200, body: { state: 'potential' } });
    const history = await api(`/v1/client-cards/${card.id}/history`);
    expect(history.body.items.map((c: { field: string }) => c.field)).toEqual(['created', 'state']);
    expect((await api(`/v1/client-cards/${card.id}/timeline`)).status).toBe(200);
    const cold = await api('/v1/bases/cold?query=' + encodeURIComponent('Карточка'));
    expect(cold.status).toBe(200);
    expect((await api('/v1/bases/disconnected')).status).toBe(200);
    expect((await api('/v1/bases/free')).status).toBe(200);
  });

  it('imports a CSV upload: analysis, dry run, errors; and exports a list as CSV opening with the BOM', async () => {
    const rows = ['Имя;Телефон', `Пётр;${newPhone()}`, 'Плохой;12', `Ольга;${newPhone()}`];
    const upload = await api('/v1/imports?file_name=base.csv', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: rows.join('\r\n') });
    expect(upload.status).toBe(201);
    expect(upload.body.import).toMatchObject({ file_name: 'base.csv', encoding: 'utf-8', delimiter: ';', header: ['Имя', 'Телефон'] });
    expect(upload.body.sample.length).toBeGreaterThan(0);
    const importId = upload.body.import.id;
    const started = await post(`/v1/imports/${importId}/start`, { mapping: [{ column: 0, field: 'name' }, { column: 1, field: 'phone' }], dry_run: true });
    expect(started.status).toBe(200);
    const done = await eventually(async () => {
      const r = await api(`/v1/imports/${importId}`);
      if (r.body.status !== 'done') throw new Error(`still ${r.body.status}`);
      return r.body;
    }, { timeoutMs: 30_000 });
    expect(done.counts).toMatchObject({ total_rows: 3, invalid: 1 });
    const errors = await api(`/v1/imports/${importId}/errors`);
    expect(errors.body).toMatchObject({ total: 1, items: [{ row_number: 3 }] });

    await createContact('Экспорт Кириллица', [{ type: 'phone', value: newPhone() }]);
    const res = await fetch(`${base}/v1/exports/contacts.csv`, { headers: { authorization: `Bearer ${keys.a}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="contacts.csv"');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain('Экспорт Кириллица');
  });
});

describe('two tenants', () => {
  it("every contacts and requests path of the document with an id answers tenant B's credentials on tenant A's objects with 404", async () => {
    // Tenant A's objects, one of each kind an {id} can name.
    const person = await createContact('Арендатор А', [{ type: 'phone', value: newPhone() }, { type: 'email', value: `tenant.a.${phoneSeq}@example.com` }]);
    const second = await createContact('Арендатор А2', [{ type: 'phone', value: newPhone() }]);
    const company = (await post('/v1/companies', { name: `Компания А ${phoneSeq}` })).body;
    const card = (await api(`/v1/client-cards?contact_id=${person.id}`)).body.items[0];
    const upload = await api('/v1/imports?file_name=a.csv', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `name;phone\nИван;${newPhone()}\n` });
    const merge = (await post('/v1/merges', { survivor_id: person.id, loser_id: second.id })).body.merge;
    await post(`/v1/merges/${merge.id}/undo`, undefined);
    const request = (await post('/v1/requests', { channel: 'email', email: `req.${phoneSeq}@example.com` })).body;
    // A probable duplicate: one inbound request whose points belong to two contacts.
    const rpc = createClient(ContactsServiceService, { address: platform.contactsAddr });
    const ctxA = { tenantId: tenantIds.a, callerId: 'e2e', callerKind: 'service' as const };
    const matched = await rpc.matchOrCreate(
      {
        name: 'Арендатор А',
        points: [
          { type: PointType.POINT_TYPE_PHONE, value: phoneOf(person), network: '', verified: false },
          { type: PointType.POINT_TYPE_PHONE, value: phoneOf(second), network: '', verified: false },
        ],
        provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: request.id },
        defaultCountry: 'RU',
      },
      ctxA,
    );
    rpc.close();
    const ids: Record<string, string> = {
      contacts: person.id,
      companies: company.id,
      'client-cards': card.id,
      imports: upload.body.import.id,
      merges: merge.id,
      duplicates: matched.duplicateId,
      requests: request.id,
    };
    for (const [kind, value] of Object.entries(ids)) expect({ kind, value }).toEqual({ kind, value: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document
    const doc: any = await (await fetch(`${base}/openapi.json`)).json();
    const called: string[] = [];
    const wrong: string[] = [];
    for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> } }>>)) {
      if (!template.includes('{id}')) continue;
      const kind = template.split('/')[2];
      // Team settings, API keys, public forms, saved views and tasks have their own two-tenant sweeps
      // (test/e2e/team.integration.test.ts, work.integration.test.ts, visibility.integration.test.ts).
      if (!(kind in ids)) continue;
      const path = template
        .replace('{id}', ids[kind])
        .replace('{pointId}', person.points.find((p: { type: string }) => p.type === 'phone').id)
        .replace('{contactId}', person.id);
      for (const [method, op] of Object.entries(item)) {
        const json = op.requestBody?.content['application/json'];
        const example = json?.examples ? Object.values(json.examples)[0].value : undefined;
        const res =
          json === undefined
            ? await api(path, { method: method.toUpperCase(), key: keys.b })
            : await api(path, { method: method.toUpperCase(), key: keys.b, body: JSON.stringify(example ?? {}) });
        called.push(`${method} ${template}`);
        if (res.status !== 404) wrong.push(`${method} ${template}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(called.length).toBeGreaterThan(25);

    // Nothing of A is listed, searched, looked up, merged or exported for B.
    const phone = phoneOf(person);
    expect((await api(`/v1/contacts?query=${encodeURIComponent(phone.slice(4))}`, { key: keys.b })).body.items).toEqual([]);
    expect((await api(`/v1/contacts/lookup?phone=${encodeURIComponent(phone)}`, { key: keys.b })).status).toBe(404);
    expect((await post('/v1/merges', { survivor_id: person.id, loser_id: second.id }, keys.b)).status).toBe(404);
    const mine = await createContact('Арендатор Б', [{ type: 'phone', value: newPhone() }], keys.b);
    expect((await post('/v1/merges', { survivor_id: mine.id, loser_id: person.id }, keys.b)).status).toBe(404);
    expect((await api('/v1/duplicates', { key: keys.b })).body.items.map((d: { id: string }) => d.id)).not.toContain(matched.duplicateId);
    expect((await api('/v1/imports', { key: keys.b })).body.items.map((i: { id: string }) => i.id)).not.toContain(ids.imports);
    const csv = await fetch(`${base}/v1/exports/contacts.csv`, { headers: { authorization: `Bearer ${keys.b}` } });
    expect(await csv.text()).not.toContain('Арендатор А');
    // And A's objects are as they were.
    const after = (await api(`/v1/contacts/${person.id}`)).body;
    expect(after.name).toBe('Арендатор А');
    expect(after).not.toHaveProperty('merged_into_id');
  });
});
