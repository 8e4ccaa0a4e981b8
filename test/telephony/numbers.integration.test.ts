/**
 * Numbers and DNI pools through the gateway's REST API, over real HTTP, in front of real telephony and
 * identity (gRPC, PostgreSQL): validation (400 naming every field), one active number per phone across
 * tenants (409 `number_taken`; free again once archived), archive (leaves its pool, no more changes),
 * keyset pagination with filters, pools (advertising numbers only, at most one pool per number: 409
 * `number_in_pool` naming the other pool; archiving frees the numbers), scopes, and another tenant's ids
 * as 404.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { startPlatform, type Platform } from '../support/platform';

let platform: Platform;
const keys = { a: '', b: '', reader: '' };

interface Res {
  status: number;
  type: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function send(method: string, path: string, key: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${platform.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

function ok(res: Res, status = 200) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  return res.body;
}

function refused(res: Res, status: number) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
  expect(res.type).toContain('application/problem+json');
  return res.body;
}

beforeAll(async () => {
  platform = await startPlatform();
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  try {
    const ctx = (t: 'a' | 'b') => ({ tenantId: platform.tenants[t].id, callerId: 'numbers-test', callerKind: 'service' as const });
    keys.a = (await identity.createApiKey({ name: 'numbers', scopes: ['telephony:admin', 'calls:read'] }, ctx('a'))).secret;
    keys.b = (await identity.createApiKey({ name: 'numbers', scopes: ['telephony:admin', 'calls:read'] }, ctx('b'))).secret;
    keys.reader = (await identity.createApiKey({ name: 'reader', scopes: ['calls:read'] }, ctx('a'))).secret;
  } finally {
    identity.close();
  }
}, 60_000);

afterAll(async () => {
  await platform?.stop();
});

const create = async (phone: string, extra: Record<string, unknown> = {}, key = keys.a) => ok(await send('POST', '/v1/numbers', key, { phone, kind: 'advertising', ...extra }), 201);

it('validates a number, naming every field', async () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['not a phone', { phone: 'hello', kind: 'advertising' }, ['phone']],
    ['too short', { phone: '+7 123', kind: 'sales' }, ['phone']],
    ['unknown country', { phone: '9991234567', kind: 'sales', default_country: 'ZZ' }, ['default_country']],
    ['several at once', { phone: '12', kind: 'support', label: 'x'.repeat(10), default_country: 'ZZ' }, ['default_country', 'phone']],
    ['a connection of nobody', { phone: '+7 495 111-22-33', kind: 'sales', connection_id: '0190f0f0-0000-7000-8000-000000000000' }, ['connection_id']],
  ];
  for (const [name, body, fields] of cases) {
    const p = refused(await send('POST', '/v1/numbers', keys.a, body), 400);
    expect({ name, fields: (p.errors ?? []).map((e: { field: string }) => e.field).sort() }).toEqual({ name, fields: [...fields].sort() });
  }
  // Schema-level refusals are 400 too: an unknown kind, an unknown field, a missing phone.
  refused(await send('POST', '/v1/numbers', keys.a, { phone: '+74951112233', kind: 'premium' }), 400);
  refused(await send('POST', '/v1/numbers', keys.a, { phone: '+74951112233', kind: 'sales', utm_source: 'a\u0001b' }), 400);
  refused(await send('POST', '/v1/numbers', keys.a, { phone: '+74951112233', kind: 'sales', colour: 'red' }), 400);
  refused(await send('POST', '/v1/numbers', keys.a, { kind: 'sales' }), 400);
  refused(await send('PATCH', '/v1/numbers/not-a-uuid', keys.a, { label: 'x' }), 400);
});

it('keeps one active number per phone across tenants; archiving frees it', async () => {
  const n = await create('8 (495) 222-33-44', { label: 'Яндекс Директ', utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'winter' });
  expect(n).toMatchObject({ phone: '+74952223344', kind: 'advertising', label: 'Яндекс Директ', utm_source: 'yandex', pool_id: null, archived: false });
  const dupSame = refused(await send('POST', '/v1/numbers', keys.a, { phone: '+7 495 222 33 44', kind: 'sales' }), 409);
  expect(dupSame).toMatchObject({ reason: 'number_taken' });
  // Another tenant cannot take it either (a dialed number must say whose call it is), and learns nothing else.
  expect(refused(await send('POST', '/v1/numbers', keys.b, { phone: '+74952223344', kind: 'sales' }), 409)).toMatchObject({ reason: 'number_taken' });
  // Concurrent creates of one phone: exactly one wins.
  const race = await Promise.all([keys.a, keys.b, keys.a, keys.b].map((k) => send('POST', '/v1/numbers', k, { phone: '+74952223355', kind: 'sales' })));
  expect(race.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);

  const archived = ok(await send('POST', `/v1/numbers/${n.id}/archive`, keys.a));
  expect(archived).toMatchObject({ id: n.id, archived: true });
  expect(refused(await send('PATCH', `/v1/numbers/${n.id}`, keys.a, { label: 'again' }), 409)).toMatchObject({ reason: 'number_archived' });
  const again = await create('+74952223344', {}, keys.b);
  expect(again.id).not.toBe(n.id);
  // The archived one is still readable, and listed only with include_archived.
  expect(ok(await send('GET', `/v1/numbers/${n.id}`, keys.a))).toMatchObject({ archived: true });
});

it('updates the fields present only; the phone cannot change', async () => {
  const n = await create('+74953334455', { label: 'old', utm_source: 'google' });
  const u = ok(await send('PATCH', `/v1/numbers/${n.id}`, keys.a, { label: 'new', kind: 'sales' }));
  expect(u).toMatchObject({ label: 'new', kind: 'sales', utm_source: 'google' });
  refused(await send('PATCH', `/v1/numbers/${n.id}`, keys.a, { phone: '+74953334466' }), 400);
  refused(await send('PATCH', `/v1/numbers/${n.id}`, keys.a, {}), 400);
  // Scopes: a calls:read key reads, does not write.
  ok(await send('GET', `/v1/numbers/${n.id}`, keys.reader));
  refused(await send('PATCH', `/v1/numbers/${n.id}`, keys.reader, { label: 'x' }), 403);
  refused(await send('GET', '/v1/number-pools', keys.reader), 403);
});

it('pages the list with filters', async () => {
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await create(`+7495777000${i}`, { kind: i % 2 ? 'support' : 'advertising' }));
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/numbers?search=749577700&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const page = ok(await send('GET', q, keys.a));
    expect(page.items.length).toBeLessThanOrEqual(3);
    seen.push(...page.items.map((x: { id: string }) => x.id));
    cursor = page.next_cursor;
  } while (cursor);
  expect(seen).toEqual(made.map((m) => m.id).reverse());
  const support = ok(await send('GET', '/v1/numbers?search=749577700&kind=support', keys.a));
  expect(support.items.map((x: { id: string }) => x.id).sort()).toEqual(made.filter((_, i) => i % 2).map((m) => m.id).sort());
  refused(await send('GET', '/v1/numbers?cursor=garbage', keys.a), 400);
  refused(await send('GET', '/v1/numbers?limit=1000', keys.a), 400);
});

it('pools: advertising numbers, each in at most one pool; archiving frees them', async () => {
  const a1 = await create('+74958880001');
  const a2 = await create('+74958880002');
  const sales = await create('+74958880003', { kind: 'sales' });
  const p1 = ok(await send('POST', '/v1/number-pools', keys.a, { name: 'Сайт 1', number_ids: [a1.id, a2.id], quiet_seconds: 120, allowed_origins: ['https://shop.example'] }), 201);
  expect(p1).toMatchObject({ name: 'Сайт 1', quiet_seconds: 120, allowed_origins: ['https://shop.example'], fallback_phone: null, archived: false });
  expect(p1.number_ids.sort()).toEqual([a1.id, a2.id].sort());
  expect(ok(await send('GET', `/v1/numbers/${a1.id}`, keys.a)).pool_id).toBe(p1.id);
  expect(ok(await send('GET', `/v1/numbers?pool_id=${p1.id}`, keys.a)).items).toHaveLength(2);

  // A number already in a pool: refused, naming the pool.
  const inPool = refused(await send('POST', '/v1/number-pools', keys.a, { name: 'Сайт 2', number_ids: [a2.id] }), 409);
  expect(inPool).toMatchObject({ reason: 'number_in_pool' });
  expect(inPool.detail).toContain('Сайт 1');
  expect(inPool.detail).toContain(p1.id);
  // Bad arguments (origin, fallback phone) name each field; then a sales number, a bad quiet period, another tenant's number.
  const bad = refused(
    await send('POST', '/v1/number-pools', keys.a, { name: 'Плохой', number_ids: [sales.id], allowed_origins: ['https://shop.example/path'], fallback_phone: 'nope' }),
    400,
  );
  expect(bad.errors.map((e: { field: string }) => e.field).sort()).toEqual(['allowed_origins[0]', 'fallback_phone']);
  expect(refused(await send('POST', '/v1/number-pools', keys.a, { name: 'Продажи', number_ids: [sales.id] }), 400).errors).toEqual([
    { field: 'number_ids[0]', message: expect.stringContaining('advertising') },
  ]);
  refused(await send('POST', '/v1/number-pools', keys.a, { name: 'Q', quiet_seconds: 5 }), 400);
  const foreign = await create('+74958880009', {}, keys.b);
  expect(refused(await send('POST', '/v1/number-pools', keys.a, { name: 'Чужой', number_ids: [foreign.id] }), 400).errors[0].field).toBe('number_ids[0]');
  // A pool number cannot become a sales number.
  expect(refused(await send('PATCH', `/v1/numbers/${a1.id}`, keys.a, { kind: 'sales' }), 409)).toMatchObject({ reason: 'number_in_pool' });

  // Moving a number: out of p1, then into p2.
  ok(await send('PATCH', `/v1/number-pools/${p1.id}`, keys.a, { number_ids: [a1.id] }));
  const p2 = ok(await send('POST', '/v1/number-pools', keys.a, { name: 'Сайт 2', number_ids: [a2.id], fallback_phone: '8 495 888-00-99' }), 201);
  expect(p2.fallback_phone).toBe('+74958880099');
  // Archiving a number takes it out of its pool.
  ok(await send('POST', `/v1/numbers/${a2.id}/archive`, keys.a));
  expect(ok(await send('GET', `/v1/number-pools/${p2.id}`, keys.a)).number_ids).toEqual([]);
  // Archiving a pool frees its numbers; an archived pool cannot change until restored.
  const arch = ok(await send('PATCH', `/v1/number-pools/${p1.id}`, keys.a, { archived: true }));
  expect(arch).toMatchObject({ archived: true, number_ids: [] });
  expect(ok(await send('GET', `/v1/numbers/${a1.id}`, keys.a)).pool_id).toBeNull();
  expect(refused(await send('PATCH', `/v1/number-pools/${p1.id}`, keys.a, { name: 'x' }), 409)).toMatchObject({ reason: 'pool_archived' });
  const list = ok(await send('GET', '/v1/number-pools', keys.a));
  expect(list.items.map((p: { id: string }) => p.id)).not.toContain(p1.id);
  expect(ok(await send('GET', '/v1/number-pools?include_archived=true', keys.a)).items.map((p: { id: string }) => p.id)).toContain(p1.id);
  const stats = ok(await send('GET', `/v1/number-pools/${p2.id}/stats`, keys.a));
  expect(stats).toMatchObject({ lends: 0, calls: 0, collision_rate: 0 });
});

it("another tenant's numbers and pools are 404", async () => {
  const n = await create('+74959990001');
  const p = ok(await send('POST', '/v1/number-pools', keys.a, { name: 'A', number_ids: [n.id] }), 201);
  for (const [method, path, body] of [
    ['GET', `/v1/numbers/${n.id}`, undefined],
    ['PATCH', `/v1/numbers/${n.id}`, { label: 'mine' }],
    ['POST', `/v1/numbers/${n.id}/archive`, undefined],
    ['GET', `/v1/number-pools/${p.id}`, undefined],
    ['PATCH', `/v1/number-pools/${p.id}`, { name: 'mine' }],
    ['GET', `/v1/number-pools/${p.id}/stats`, undefined],
  ] as const) {
    refused(await send(method, path, keys.b, body), 404);
  }
  expect(ok(await send('GET', `/v1/numbers?pool_id=${p.id}`, keys.b)).items).toEqual([]);
  expect(ok(await send('GET', `/v1/numbers/${n.id}`, keys.a)).label).toBe('');
});
