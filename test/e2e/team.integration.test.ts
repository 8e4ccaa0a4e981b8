/**
 * Team settings, API keys, public forms and the audit log through the gateway, over real HTTP, in front
 * of real identity (TeamService on PostgreSQL), intake and contacts: every route's happy path; malformed,
 * oversized, duplicate and cross-tenant input; who may write (a seller is refused the admin writes, a
 * head of sales reaches only their own department's members); invite → accept → login with no
 * credential; a deactivated user's session cookie refused on the next call. test/support/platform.ts
 * runs the gateway with AUTH_CACHE_TTL_MS=0 (every call asks identity), which would make that trivially
 * true: this suite sets 60 s instead, so it shows the gateway forgets a deactivated user's and a revoked
 * key's cached principal at once (on the replica that made the change; another replica within the TTL).
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
let base: string;
const keys = { a: '', b: '', seller: '' };

interface Res {
  status: number;
  type: string;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
}

type Auth = { key?: string; cookie?: string; anonymous?: boolean };

async function api(path: string, init: RequestInit & Auth = {}): Promise<Res> {
  const headers = new Headers(init.headers);
  if (init.cookie) {
    headers.set('cookie', init.cookie);
    headers.set('x-crm-csrf', '1');
  } else if (!init.anonymous) headers.set('authorization', `Bearer ${init.key ?? keys.a}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text && json ? JSON.parse(text) : text };
}

const send = (method: string, path: string, body: unknown, auth: Auth = {}) => api(path, { method, body: JSON.stringify(body), ...auth });
const post = (path: string, body: unknown, auth: Auth = {}) => send('POST', path, body, auth);

/** The answer's status (and body, to read a failure); `expect(ok(res, 201))` style. */
function expectStatus(res: Res, status: number) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  return res.body;
}

async function login(tenant: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant, email, password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0];
}

/** Invites a user as `auth`, accepts the invite over HTTP with no credential, logs in: the cookie. */
async function onboard(body: Record<string, unknown>, password = 'seller password 1', auth: Auth = {}) {
  const invite = expectStatus(await post('/v1/team/invites', body, auth), 201);
  expectStatus(await post(`/v1/invites/${invite.invite_token}/accept`, { password }, { anonymous: true }), 200);
  return { id: invite.user.id as string, cookie: await login(platform.tenants.a.slug, body.email as string, password) };
}

const uniq = () => Math.random().toString(36).slice(2, 8);
const ZERO_ID = '01936f5e-1234-7abc-8def-0123456789ab';

beforeAll(async () => {
  // A long auth cache (the platform's default is 0, trusting nothing): a deactivated user's cookie and a
  // revoked key must be refused at once all the same, because the gateway forgets what it cached of them.
  platform = await startPlatform({ gatewayEnv: { API_RATE_PER_CREDENTIAL: '100000', AUTH_CACHE_TTL_MS: '60000' } });
  base = platform.base;
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  for (const t of ['a', 'b'] as const) {
    const ctx = { tenantId: platform.tenants[t].id, callerId: 'e2e', callerKind: 'service' as const };
    keys[t] = (await identity.createApiKey({ name: 'team admin', scopes: ['team:read', 'identity:admin', 'requests:read'] }, ctx)).secret;
  }
  // A key without identity:admin: reads only.
  keys.seller = (await identity.createApiKey({ name: 'reader', scopes: ['team:read'] }, { tenantId: platform.tenants.a.id, callerId: 'e2e', callerKind: 'service' })).secret;
  identity.close();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe('the gateway alone (refused before identity is asked)', () => {
  const writes: [string, string, Record<string, unknown>][] = [
    ['POST', '/v1/team/invites', { email: 'x@example.com', display_name: 'X', roles: ['seller'] }],
    ['PATCH', `/v1/team/users/${ZERO_ID}`, { display_name: 'X' }],
    ['POST', `/v1/team/users/${ZERO_ID}/activation`, { active: true }],
    ['PUT', `/v1/team/users/${ZERO_ID}/away`, { away: true }],
    ['POST', '/v1/team/departments', { name: 'X' }],
    ['PATCH', `/v1/team/departments/${ZERO_ID}`, { name: 'X' }],
    ['PUT', `/v1/team/departments/${ZERO_ID}/schedule`, { hours: [] }],
    ['POST', '/v1/team/projects', { name: 'X', code: 'x' }],
    ['PATCH', `/v1/team/projects/${ZERO_ID}`, { archived: true }],
    ['POST', '/v1/team/shifts', { user_id: ZERO_ID, starts_at: '2030-01-01T09:00:00Z', ends_at: '2030-01-01T10:00:00Z' }],
    ['POST', '/v1/api-keys', { name: 'X', scopes: ['requests:read'] }],
    ['POST', '/v1/public-forms', { name: 'X' }],
    ['PATCH', '/v1/public-forms/pf_abcdefghijklmnop', { enabled: false }],
    ['POST', '/v1/invites/abcdefghijklmnopqrstuvwxyz/accept', { password: 'long enough' }],
  ];

  it.each(writes)('%s %s: malformed JSON, an unknown field and an oversized body are 400/400/413 problems', async (method, path, valid) => {
    const cases: [string, string, number][] = [
      ['malformed JSON', JSON.stringify(valid).slice(0, -1), 400],
      ['unknown field', JSON.stringify({ ...valid, admin: true }), 400],
      ['oversized', JSON.stringify({ ...valid, padding: 'x'.repeat(20_000) }), 413],
    ];
    for (const [name, body, status] of cases) {
      const res = await api(path, { method, body, anonymous: path.startsWith('/v1/invites/') });
      expect({ name, status: res.status, type: res.type }).toEqual({ name, status, type: expect.stringContaining('application/problem+json') });
    }
    const unknown = await api(path, { method, body: JSON.stringify({ ...valid, admin: true }), anonymous: path.startsWith('/v1/invites/') });
    expect(unknown.body.errors).toContainEqual({ field: 'admin', message: 'unknown field' });
  });

  it('refuses out-of-bounds values by the schema', async () => {
    const bad: [string, string, unknown][] = [
      ['POST', '/v1/team/invites', { email: 'x@example.com', display_name: 'X', roles: [] }],
      ['POST', '/v1/team/invites', { email: 'x@example.com', display_name: 'X', roles: ['king'] }],
      ['POST', '/v1/team/invites', { email: 'not-an-email', display_name: 'X', roles: ['seller'] }],
      ['POST', '/v1/team/invites', { email: 'x@example.com', display_name: '   ', roles: ['seller'] }],
      ['POST', '/v1/team/invites', { email: 'x@example.com', display_name: 'X', roles: ['seller'], department_ids: Array.from({ length: 51 }, () => ZERO_ID) }],
      ['POST', '/v1/team/departments', { name: 'x'.repeat(101) }],
      ['POST', '/v1/team/departments', { name: 'X', kind: 'marketing' }],
      ['POST', '/v1/team/departments', { name: 'X', sla_first_response_minutes: 10081 }],
      ['PUT', `/v1/team/departments/${ZERO_ID}/schedule`, { hours: [{ weekday: 8, from: '09:00', to: '18:00' }] }],
      ['PUT', `/v1/team/departments/${ZERO_ID}/schedule`, { hours: [{ weekday: 1, from: '9:00', to: '18:00' }] }],
      ['PUT', `/v1/team/departments/${ZERO_ID}/schedule`, { time_zone: 'Mars/Olympus', hours: [] }],
      ['PUT', `/v1/team/departments/${ZERO_ID}/schedule`, { holidays: ['2027-02-30x'] }],
      ['POST', '/v1/team/projects', { name: 'X', code: 'Has Spaces' }],
      ['POST', '/v1/team/shifts', { user_id: ZERO_ID, starts_at: 'tomorrow', ends_at: '2030-01-01T10:00:00Z' }],
      ['POST', '/v1/api-keys', { name: 'X', scopes: ['root'] }],
      ['POST', '/v1/api-keys', { name: 'X', scopes: [] }],
      ['POST', '/v1/public-forms', { name: 'X', thank_you_url: 'javascript:alert(1)' }],
      ['POST', '/v1/public-forms', { name: 'X', field_mapping: { phone: Array.from({ length: 21 }, (_, i) => `f${i}`) } }],
    ];
    for (const [method, path, body] of bad) {
      const res = await send(method, path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      expect(res.body.errors?.length).toBeGreaterThan(0);
    }
    for (const path of [
      '/v1/team/users/not-a-uuid',
      '/v1/team/users?limit=201',
      '/v1/team/users?cursor=%00',
      '/v1/team/shifts',
      '/v1/team/shifts?from=2030-01-01T00:00:00Z&to=later',
      '/v1/team/roster?at=noon',
      '/v1/audit?target_kind=planet',
      '/v1/audit?target_id=x',
      '/v1/team/departments/not-a-uuid',
    ]) {
      expect({ path, status: (await api(path)).status }).toEqual({ path, status: 400 });
    }
    expect((await post('/v1/invites/short/accept', { password: 'long enough' }, { anonymous: true })).status).toBe(400);
    expect((await post('/v1/invites/abcdefghijklmnopqrstuvwxyz/accept', { password: 'short' }, { anonymous: true })).status).toBe(400);
  });

  it('needs a credential (except accepting an invite) and the scope', async () => {
    for (const path of ['/v1/team/users', '/v1/team/departments', '/v1/api-keys', '/v1/public-forms', '/v1/audit', '/v1/team/roster']) {
      expect({ path, status: (await api(path, { anonymous: true })).status }).toEqual({ path, status: 401 });
    }
    // The platform's default key has requests:* and reports:read only.
    expect((await api('/v1/team/users', { key: platform.tenants.a.apiKey })).status).toBe(403);
    // team:read without identity:admin: reads yes, admin writes and admin lists no.
    expect((await api('/v1/team/users', { key: keys.seller })).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/v1/api-keys', undefined],
      ['GET', '/v1/public-forms', undefined],
      ['GET', '/v1/audit', undefined],
      ['POST', '/v1/api-keys', { name: 'X', scopes: ['requests:read'] }],
      ['POST', '/v1/team/departments', { name: 'X' }],
      ['POST', '/v1/team/projects', { name: 'X', code: 'x' }],
    ] as const) {
      const res = await api(path, { method, key: keys.seller, body: body ? JSON.stringify(body) : undefined });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    }
  });
});

describe('team settings over identity', () => {
  let sales: { id: string };
  let support: { id: string };
  let seller: { id: string; cookie: string };
  let supportSeller: { id: string; cookie: string };
  let head: { id: string; cookie: string };
  let adminCookie = '';
  let adminId = '';

  beforeAll(async () => {
    adminCookie = await login(platform.tenants.a.slug, platform.tenants.a.adminEmail, platform.tenants.a.adminPassword);
    adminId = (await api('/v1/me', { cookie: adminCookie })).body.subject_id;
    sales = expectStatus(await post('/v1/team/departments', { name: `Продажи ${uniq()}`, kind: 'sales', sla_first_response_minutes: 15 }), 201);
    support = expectStatus(await post('/v1/team/departments', { name: `Support ${uniq()}`, kind: 'support' }), 201);
    seller = await onboard({ email: `seller-${uniq()}@a.test`, display_name: 'Мария Продавец', roles: ['seller'], department_ids: [sales.id] });
    supportSeller = await onboard({ email: `support-${uniq()}@a.test`, display_name: 'Sam Support', roles: ['seller'], department_ids: [support.id] });
    head = await onboard({ email: `head-${uniq()}@a.test`, display_name: 'Head Sales', roles: ['head_of_sales'], department_ids: [sales.id], headed_department_ids: [sales.id] });
  }, 60_000);

  it('creates, reads, changes departments; a taken name is a 409; an inverted interval is a 400 naming it', async () => {
    const got = expectStatus(await api(`/v1/team/departments/${sales.id}`), 200);
    expect(got).toMatchObject({ id: sales.id, kind: 'sales', sla_first_response_minutes: 15, schedule: { hours: [], holidays: [] }, head_user_ids: [head.id] });
    expect(got.member_count).toBeGreaterThanOrEqual(2);
    const dup = await post('/v1/team/departments', { name: got.name.toUpperCase() });
    expect(dup.status).toBe(409);
    const list = expectStatus(await api('/v1/team/departments'), 200);
    expect(list.items.map((d: { id: string }) => d.id)).toEqual(expect.arrayContaining([sales.id, support.id]));

    const patched = expectStatus(await send('PATCH', `/v1/team/departments/${support.id}`, { sla_first_response_minutes: 30, kind: 'service' }), 200);
    expect(patched).toMatchObject({ sla_first_response_minutes: 30, kind: 'service' });

    const inverted = await send('PUT', `/v1/team/departments/${sales.id}/schedule`, { time_zone: 'Europe/Moscow', hours: [{ weekday: 1, from: '09:00', to: '18:00' }, { weekday: 2, from: '18:00', to: '09:00' }] });
    expect(inverted.status).toBe(400);
    expect(inverted.body.errors).toContainEqual(expect.objectContaining({ field: 'schedule.hours[1].to' }));
    const overlap = await send('PUT', `/v1/team/departments/${sales.id}/schedule`, { hours: [{ weekday: 1, from: '09:00', to: '13:00' }, { weekday: 1, from: '12:00', to: '18:00' }] });
    expect(overlap.status).toBe(400);
    const week = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' }));
    const set = expectStatus(await send('PUT', `/v1/team/departments/${sales.id}/schedule`, { time_zone: 'Europe/Moscow', hours: week, holidays: ['2030-01-01'] }), 200);
    expect(set.schedule).toEqual({ time_zone: 'Europe/Moscow', hours: week, holidays: ['2030-01-01'] });
  });

  it('creates, lists, renames and archives projects; a taken code is a 409', async () => {
    const code = `p-${uniq()}`;
    const p = expectStatus(await post('/v1/team/projects', { name: 'Новостройки', code }), 201);
    expect(p).toMatchObject({ name: 'Новостройки', code, archived: false });
    expect((await post('/v1/team/projects', { name: 'Other', code })).status).toBe(409);
    expect(expectStatus(await send('PATCH', `/v1/team/projects/${p.id}`, { name: 'Вторичка' }), 200).name).toBe('Вторичка');
    expectStatus(await send('PATCH', `/v1/team/projects/${p.id}`, { archived: true }), 200);
    const active = expectStatus(await api('/v1/team/projects'), 200);
    expect(active.items.map((x: { id: string }) => x.id)).not.toContain(p.id);
    const all = expectStatus(await api('/v1/team/projects?include_archived=true'), 200);
    expect(all.items).toContainEqual(expect.objectContaining({ id: p.id, archived: true }));
  });

  it('lists, reads and changes users; a taken e-mail is a 409; a used invite token is a 404', async () => {
    const page = expectStatus(await api(`/v1/team/users?department_id=${sales.id}`), 200);
    expect(page.items.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([seller.id, head.id]));
    expect(page.items.map((u: { id: string }) => u.id)).not.toContain(supportSeller.id);
    const found = expectStatus(await api(`/v1/team/users?q=${encodeURIComponent('мария')}`), 200);
    expect(found.items.map((u: { id: string }) => u.id)).toEqual([seller.id]);
    const first = expectStatus(await api('/v1/team/users?limit=1'), 200);
    expect(first.items).toHaveLength(1);
    expect(typeof first.next_cursor).toBe('string');
    const second = expectStatus(await api(`/v1/team/users?limit=1&cursor=${first.next_cursor}`), 200);
    expect(second.items[0].id).not.toBe(first.items[0].id);

    const user = expectStatus(await api(`/v1/team/users/${seller.id}`), 200);
    expect(user).toMatchObject({ id: seller.id, roles: ['seller'], department_ids: [sales.id], active: true, invited: false, away: false });

    const changed = expectStatus(await send('PATCH', `/v1/team/users/${supportSeller.id}`, { display_name: 'Sam S.', department_ids: [support.id, sales.id] }), 200);
    expect(changed).toMatchObject({ display_name: 'Sam S.', department_ids: [support.id, sales.id], roles: ['seller'] });
    expectStatus(await send('PATCH', `/v1/team/users/${supportSeller.id}`, { department_ids: [support.id] }), 200);

    const email = `dup-${uniq()}@a.test`;
    const invite = expectStatus(await post('/v1/team/invites', { email, display_name: 'Dup', roles: ['analyst'] }), 201);
    expect(invite.invite_path).toBe(`/invite/${invite.invite_token}`);
    expect(invite.user).toMatchObject({ email, active: false, invited: true });
    expect((await post('/v1/team/invites', { email: email.toUpperCase(), display_name: 'Dup', roles: ['analyst'] })).status).toBe(409);
    const accepted = expectStatus(await post(`/v1/invites/${invite.invite_token}/accept`, { password: 'analyst password' }, { anonymous: true }), 200);
    expect(accepted).toMatchObject({ tenant_slug: platform.tenants.a.slug, user: { id: invite.user.id, active: true, invited: false } });
    expect((await post(`/v1/invites/${invite.invite_token}/accept`, { password: 'another password' }, { anonymous: true })).status).toBe(404);
    expect((await post('/v1/invites/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG/accept', { password: 'another password' }, { anonymous: true })).status).toBe(404);
    const me = expectStatus(await api('/v1/me', { cookie: await login(platform.tenants.a.slug, email, 'analyst password') }), 200);
    expect(me).toMatchObject({ subject_id: invite.user.id, roles: ['analyst'] });
  });

  it("answers another tenant's ids as 404, never changing them", async () => {
    const b = keys.b;
    for (const path of [`/v1/team/users/${seller.id}`, `/v1/team/departments/${sales.id}`]) {
      expect({ path, status: (await api(path, { key: b })).status }).toEqual({ path, status: 404 });
    }
    const writes: [string, string, unknown][] = [
      ['PATCH', `/v1/team/users/${seller.id}`, { display_name: 'Hijacked' }],
      ['POST', `/v1/team/users/${seller.id}/activation`, { active: false }],
      ['PUT', `/v1/team/users/${seller.id}/away`, { away: true }],
      ['PATCH', `/v1/team/departments/${sales.id}`, { name: 'Hijacked' }],
      ['PUT', `/v1/team/departments/${sales.id}/schedule`, { hours: [] }],
      ['POST', '/v1/team/shifts', { user_id: seller.id, starts_at: '2030-02-01T09:00:00Z', ends_at: '2030-02-01T12:00:00Z' }],
      ['POST', `/v1/api-keys/${platform.tenants.a.keyId}/revocation`, undefined],
      ['PATCH', `/v1/public-forms/${platform.tenants.a.formId}`, { enabled: false }],
    ];
    for (const [method, path, body] of writes) {
      const res = await api(path, { method, key: b, body: body === undefined ? undefined : JSON.stringify(body) });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    // An invite naming another tenant's department is refused, not a member of it.
    const cross = await post('/v1/team/invites', { email: `x-${uniq()}@b.test`, display_name: 'X', roles: ['seller'], department_ids: [sales.id] }, { key: b });
    expect([400, 404]).toContain(cross.status);
    // Nothing changed in tenant A.
    expect(expectStatus(await api(`/v1/team/users/${seller.id}`), 200)).toMatchObject({ display_name: 'Мария Продавец', active: true, away: false });
    expect(expectStatus(await api(`/v1/team/departments/${sales.id}`), 200).name).not.toBe('Hijacked');
    expect((await api('/v1/team/users', { key: platform.tenants.a.apiKey })).status).toBe(403);
    expect((await api('/v1/requests', { key: platform.tenants.a.apiKey })).status).toBe(200);
    const forms = expectStatus(await api('/v1/public-forms'), 200);
    expect(forms.items).toContainEqual(expect.objectContaining({ id: platform.tenants.a.formId, enabled: true }));
  });

  it("refuses a seller the admin writes (403) and lets them read the team", async () => {
    const s = { cookie: seller.cookie };
    expect((await api('/v1/team/users', s)).status).toBe(200);
    expect((await api('/v1/team/roster', s)).status).toBe(200);
    const writes: [string, string, unknown][] = [
      ['PATCH', `/v1/team/users/${supportSeller.id}`, { display_name: 'X' }],
      ['POST', `/v1/team/users/${supportSeller.id}/activation`, { active: false }],
      ['PUT', `/v1/team/users/${supportSeller.id}/away`, { away: true }],
      ['POST', '/v1/team/invites', { email: `s-${uniq()}@a.test`, display_name: 'X', roles: ['seller'], department_ids: [sales.id] }],
      ['POST', '/v1/team/departments', { name: `X ${uniq()}` }],
      ['PATCH', `/v1/team/departments/${sales.id}`, { sla_first_response_minutes: 1 }],
      ['PUT', `/v1/team/departments/${sales.id}/schedule`, { hours: [] }],
      ['POST', '/v1/team/projects', { name: 'X', code: `x-${uniq()}` }],
      ['POST', '/v1/team/shifts', { user_id: supportSeller.id, starts_at: '2030-02-01T09:00:00Z', ends_at: '2030-02-01T12:00:00Z' }],
      ['POST', '/v1/api-keys', { name: 'X', scopes: ['requests:read'] }],
      ['POST', '/v1/public-forms', { name: 'X' }],
      ['GET', '/v1/api-keys', undefined],
      ['GET', '/v1/audit', undefined],
    ];
    for (const [method, path, body] of writes) {
      const res = await api(path, { method, ...s, body: body === undefined ? undefined : JSON.stringify(body) });
      expect({ method, path, status: res.status, type: res.type }).toEqual({ method, path, status: 403, type: expect.stringContaining('application/problem+json') });
    }
    expect(expectStatus(await api(`/v1/team/departments/${sales.id}`), 200).sla_first_response_minutes).toBe(15);
  });

  it("lets a head of sales set away and shifts for their department's seller, not another department's", async () => {
    const h = { cookie: head.cookie };
    const until = new Date(Date.now() + 3 * 3600_000).toISOString();
    const away = expectStatus(await send('PUT', `/v1/team/users/${seller.id}/away`, { away: true, until }, h), 200);
    expect(away).toMatchObject({ id: seller.id, away: true });
    expect(Date.parse(away.away_until)).toBe(Date.parse(until));
    expect((await send('PUT', `/v1/team/users/${supportSeller.id}/away`, { away: true }, h)).status).toBe(403);

    const day = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const shift = expectStatus(await post('/v1/team/shifts', { user_id: seller.id, starts_at: `${day}T09:00:00+03:00`, ends_at: `${day}T18:00:00+03:00` }, h), 201);
    expect(shift).toMatchObject({ user_id: seller.id, starts_at: `${day}T06:00:00.000Z`, ends_at: `${day}T15:00:00.000Z` });
    const overlapping = await post('/v1/team/shifts', { user_id: seller.id, starts_at: `${day}T10:00:00Z`, ends_at: `${day}T20:00:00Z` }, h);
    expect(overlapping.status).toBe(400);
    expect((await post('/v1/team/shifts', { user_id: seller.id, starts_at: `${day}T18:00:00Z`, ends_at: `${day}T09:00:00Z` }, h)).status).toBe(400);
    expect((await post('/v1/team/shifts', { user_id: supportSeller.id, starts_at: `${day}T09:00:00Z`, ends_at: `${day}T12:00:00Z` }, h)).status).toBe(403);
    // Heads may not do admin writes of their own department.
    expect((await send('PATCH', `/v1/team/users/${seller.id}`, { roles: ['admin'] }, h)).status).toBe(403);
    // But the department's SLA and schedule are theirs; the other department's are not.
    expect(expectStatus(await send('PATCH', `/v1/team/departments/${sales.id}`, { sla_first_response_minutes: 20 }, h), 200).sla_first_response_minutes).toBe(20);
    expect((await send('PATCH', `/v1/team/departments/${support.id}`, { sla_first_response_minutes: 20 }, h)).status).toBe(403);
    expect((await send('PUT', `/v1/team/departments/${support.id}/schedule`, { hours: [] }, h)).status).toBe(403);

    const from = `${day}T00:00:00Z`;
    const to = new Date(Date.parse(from) + 2 * 86_400_000).toISOString();
    const listed = expectStatus(await api(`/v1/team/shifts?from=${from}&to=${to}&department_id=${sales.id}`, h), 200);
    expect(listed.items).toContainEqual(expect.objectContaining({ id: shift.id }));
    const roster = expectStatus(await api(`/v1/team/roster?at=${encodeURIComponent(`${day}T12:00:00+03:00`)}`), 200);
    expect(roster.departments).toContainEqual(expect.objectContaining({ id: sales.id, open: expect.any(Boolean) }));
    expect(roster.users).toContainEqual(expect.objectContaining({ id: seller.id, on_shift: true }));

    expect((await api(`/v1/team/shifts/${shift.id}`, { method: 'DELETE', ...h })).status).toBe(204);
    expect((await api(`/v1/team/shifts/${shift.id}`, { method: 'DELETE', ...h })).status).toBe(404);
    const after = expectStatus(await api(`/v1/team/shifts?from=${from}&to=${to}&user_id=${seller.id}`), 200);
    expect(after.items).toEqual([]);

    const back = expectStatus(await send('PUT', `/v1/team/users/${seller.id}/away`, { away: false }, h), 200);
    expect(back.away).toBe(false);
    expect(back.away_until).toBeUndefined();
  });

  it("deactivation refuses the user's session cookie on the next call and their login; the last admin stays", async () => {
    const victim = await onboard({ email: `leaver-${uniq()}@a.test`, display_name: 'Leaver', roles: ['seller'], department_ids: [sales.id] }, 'leaver password');
    expect((await api('/v1/me', { cookie: victim.cookie })).status).toBe(200);
    const off = expectStatus(await post(`/v1/team/users/${victim.id}/activation`, { active: false }, { cookie: adminCookie }), 200);
    expect(off.sessions_revoked).toBeGreaterThanOrEqual(1);
    expect(off.user).toMatchObject({ active: false, deactivated_at: expect.any(String) });
    expect((await api('/v1/me', { cookie: victim.cookie })).status).toBe(401);
    const relogin = await fetch(`${base}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: platform.tenants.a.slug, email: off.user.email, password: 'leaver password' }),
    });
    expect(relogin.status).toBe(401);
    // Listed only with include_inactive.
    const active = expectStatus(await api('/v1/team/users?limit=200'), 200);
    expect(active.items.map((u: { id: string }) => u.id)).not.toContain(victim.id);
    const all = expectStatus(await api('/v1/team/users?limit=200&include_inactive=true'), 200);
    expect(all.items.map((u: { id: string }) => u.id)).toContain(victim.id);

    const on = expectStatus(await post(`/v1/team/users/${victim.id}/activation`, { active: true }), 200);
    expect(on.user.active).toBe(true);
    expect((await api('/v1/me', { cookie: await login(platform.tenants.a.slug, off.user.email, 'leaver password') })).status).toBe(200);

    const last = await post(`/v1/team/users/${adminId}/activation`, { active: false });
    expect(last.status).toBe(409);
    expect((await api('/v1/me', { cookie: adminCookie })).status).toBe(200);
  });

  it('creates API keys (the secret once), lists them without secrets, revokes idempotently; a revoked key is refused', async () => {
    const created = expectStatus(await post('/v1/api-keys', { name: 'Сайт', scopes: ['requests:read', 'team:read'] }), 201);
    expect(created.secret).toMatch(new RegExp(`^crm_${created.key.prefix}_`));
    expect(created.key).toMatchObject({ name: 'Сайт', scopes: ['requests:read', 'team:read'] });
    expect(created.key.revoked_at).toBeUndefined();
    expect((await api('/v1/team/departments', { key: created.secret })).status).toBe(200);
    const list = expectStatus(await api('/v1/api-keys'), 200);
    expect(list.items).toContainEqual(expect.objectContaining({ id: created.key.id, prefix: created.key.prefix }));
    expect(JSON.stringify(list)).not.toContain(created.secret);

    const revoked = expectStatus(await post(`/v1/api-keys/${created.key.id}/revocation`, undefined), 200);
    expect(revoked.revoked_at).toEqual(expect.any(String));
    const again = expectStatus(await post(`/v1/api-keys/${created.key.id}/revocation`, undefined), 200);
    expect(again.revoked_at).toBe(revoked.revoked_at);
    expect((await api('/v1/team/departments', { key: created.secret })).status).toBe(401);
    expect((await post(`/v1/api-keys/${ZERO_ID}/revocation`, undefined)).status).toBe(404);
  });

  it('creates, lists and changes public forms; a disabled form refuses submissions', async () => {
    const form = expectStatus(await post('/v1/public-forms', { name: 'Обратный звонок', field_mapping: { phone: ['tel'] }, thank_you_url: 'https://example.com/thanks' }), 201);
    expect(form).toMatchObject({ name: 'Обратный звонок', enabled: true, field_mapping: { name: [], phone: ['tel'], email: [], message: [] }, thank_you_url: 'https://example.com/thanks' });
    expect(form.id).toMatch(/^pf_/);
    expect(expectStatus(await api('/v1/public-forms'), 200).items).toContainEqual(expect.objectContaining({ id: form.id }));

    const submit = () => fetch(`${base}/v1/forms/${form.id}/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tel: '+79990001122', name: uniq() }) });
    expect((await submit()).status).toBe(202);

    const renamed = expectStatus(await send('PATCH', `/v1/public-forms/${form.id}`, { name: 'Звонок', field_mapping: { phone: ['phone_number'], name: ['fio'] }, thank_you_url: '' }), 200);
    expect(renamed).toMatchObject({ name: 'Звонок', enabled: true, field_mapping: { phone: ['phone_number'], name: ['fio'] }, thank_you_url: '' });
    const disabled = expectStatus(await send('PATCH', `/v1/public-forms/${form.id}`, { enabled: false }), 200);
    expect(disabled).toMatchObject({ name: 'Звонок', enabled: false });
    expect((await submit()).status).toBe(404);
    expect(expectStatus(await send('PATCH', `/v1/public-forms/${form.id}`, { enabled: true, name: 'Звонок 2' }), 200)).toMatchObject({ enabled: true, name: 'Звонок 2' });
    expect((await submit()).status).toBe(202);
    expect(expectStatus(await send('PATCH', `/v1/public-forms/${form.id}`, {}), 200).name).toBe('Звонок 2');

    // identity's own checks: one name mapped to two targets, nothing changed.
    const clash = await send('PATCH', `/v1/public-forms/${form.id}`, { field_mapping: { phone: ['contact'], email: ['Contact'] }, enabled: false });
    expect(clash.status).toBe(400);
    expect(clash.body.errors?.[0]?.field).toMatch(/^field_mapping/);
    expect(expectStatus(await api('/v1/public-forms'), 200).items).toContainEqual(expect.objectContaining({ id: form.id, enabled: true, field_mapping: expect.objectContaining({ phone: ['phone_number'] }) }));
    expect((await send('PATCH', '/v1/public-forms/pf_doesnotexist0000', { enabled: false })).status).toBe(404);
  });

  it('shows the audit log newest first, filtered by target and actor, paged by cursor', async () => {
    const all = expectStatus(await api('/v1/audit?limit=200'), 200);
    expect(all.items.length).toBeGreaterThan(5);
    const actions = new Set(all.items.map((e: { action: string }) => e.action));
    for (const a of ['user.invited', 'user.invite_accepted', 'department.created', 'department.schedule_set', 'user.deactivated', 'api_key.revoked']) expect(actions).toContain(a);
    expect(JSON.stringify(all)).not.toMatch(/crm_[A-Za-z0-9]{8}_/);

    const ofSeller = expectStatus(await api(`/v1/audit?target_kind=user&target_id=${seller.id}`), 200);
    expect(ofSeller.items.length).toBeGreaterThanOrEqual(3);
    expect(ofSeller.items.every((e: { target_kind: string; target_id: string }) => e.target_kind === 'user' && e.target_id === seller.id)).toBe(true);
    expect(ofSeller.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['user.away_set', 'user.away_cleared']));

    const byHead = expectStatus(await api(`/v1/audit?actor_id=${head.id}`), 200);
    expect(byHead.items.length).toBeGreaterThan(0);
    expect(byHead.items.every((e: { actor_id: string; actor_kind: string }) => e.actor_id === head.id && e.actor_kind === 'user')).toBe(true);

    // The other tenant's log does not hold this tenant's changes.
    const other = expectStatus(await api('/v1/audit?limit=200', { key: keys.b }), 200);
    expect(other.items.map((e: { target_id: string }) => e.target_id)).not.toContain(seller.id);

    // Newest first, and the pages of a cursor walk are the whole log in that order.
    const times = all.items.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Res = await api(`/v1/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expectStatus(page, 200);
      walked.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor && walked.length < 500);
    expect(walked).toEqual(all.items.map((e: { id: string }) => e.id));
  });

  it('rate-limits accepting invites per client (429 with Retry-After)', async () => {
    let last: Res | undefined;
    // 20 a minute per client, in windows aligned to the minute: 45 attempts reach 429 even across a minute's end.
    for (let i = 0; i < 45; i++) {
      last = await post(`/v1/invites/${'z'.repeat(20)}${i}/accept`, { password: 'whatever long' }, { anonymous: true });
      if (last.status === 429) break;
      expect(last.status).toBe(404);
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
