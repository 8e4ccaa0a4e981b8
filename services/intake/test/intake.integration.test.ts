import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import type { CreateRequestRequest } from '@crm/contracts/crm/intake/v1/intake';
import { Channel, ContactAxis, MeaningAxis, NumberAxis, QualificationAxis, RequestState, type Request } from '@crm/contracts/crm/intake/v1/request';
import { status } from '@crm/grpc';
import { decodeData, decodeEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import { collect, grpcError, NO_LIST_FILTERS, NO_ROUTING_FIELDS, startHarness, tenant, type Harness } from './harness';

let h: Harness;
const A = tenant('tenant-a', 'user-a');
const B = tenant('tenant-b', 'user-b');

const noAttribution = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' };

function form(over: Partial<CreateRequestRequest> = {}): CreateRequestRequest {
  return {
    channel: Channel.CHANNEL_WEB_FORM,
    name: '',
    phone: '',
    email: '',
    message: '',
    attribution: noAttribution,
    idempotencyKey: '',
    publicFormId: '',
    defaultCountry: '',
    extraFields: [],
    ...NO_ROUTING_FIELDS,
    ...over,
  };
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await h.pool.query(sql, params)).rows[0].n);
}

/** Rows in every table a write could touch, to prove a rejected call wrote nothing. */
async function tableCounts() {
  return {
    requests: await count('SELECT count(*) AS n FROM requests'),
    comments: await count('SELECT count(*) AS n FROM request_comments'),
    outbox: await count('SELECT count(*) AS n FROM outbox'),
    commentCounts: await count('SELECT coalesce(sum(comment_count), 0) AS n FROM requests'),
  };
}

/**
 * Makes a race certain instead of likely. Holds an EXCLUSIVE lock on requests (reads pass, inserts
 * wait), starts the calls, waits until `waiters` of them are blocked inside PostgreSQL (on that lock or
 * on the service's advisory locks), then releases it. Without this the first call often finishes while
 * the service's pool is still opening connections, and the "concurrent" calls run one after another.
 */
async function race<T>(waiters: number, start: () => Promise<T>[]): Promise<T[]> {
  const blocker = await h.pool.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE requests IN EXCLUSIVE MODE');
    const settled = Promise.allSettled(start());
    await eventually(() => count(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`), {
      until: (n) => n >= waiters,
      timeoutMs: 10_000,
      message: `${waiters} calls blocked in PostgreSQL`,
    });
    await blocker.query('COMMIT');
    return (await settled).map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    blocker.release();
  }
}

// The events test's consumer joins its group (seconds on Kafka) while the other tests run.
let watcher: Promise<Awaited<ReturnType<typeof collect>>>;

beforeAll(async () => {
  h = await startHarness();
  watcher = collect(h.kafka, h.topic('crm.intake.request.v1'), `intake-watch-${runId}`);
  watcher.catch(() => undefined); // awaited (and reported) by the events test
});

afterAll(async () => {
  await (await watcher.catch(() => undefined))?.stop();
  await h?.stop();
});

describe('create and get', () => {
  it('normalises the phone, classifies on arrival and reads back the same request', async () => {
    const { request, replayed } = await h.client.createRequest(
      form({
        name: '  Иван Петров ',
        phone: '8 (999) 123-45-67',
        email: ' Ivan.Petrov@Example.COM',
        message: 'Перезвоните',
        publicFormId: 'form-main',
        attribution: { ...noAttribution, utmSource: 'yandex', utmCampaign: 'winter', landingPage: 'https://example.ru/landing?x=1', referrer: 'https://ya.ru/' },
      }),
      A,
    );
    expect(replayed).toBe(false);
    expect(request).toMatchObject({
      tenantId: 'tenant-a',
      state: RequestState.REQUEST_STATE_NEW,
      axes: {
        number: NumberAxis.NUMBER_AXIS_PRIMARY,
        meaning: MeaningAxis.MEANING_AXIS_UNKNOWN,
        contact: ContactAxis.CONTACT_AXIS_UNVERIFIED,
        qualification: QualificationAxis.QUALIFICATION_AXIS_PENDING,
        channel: Channel.CHANNEL_WEB_FORM,
      },
      name: 'Иван Петров',
      phone: '+79991234567',
      email: 'ivan.petrov@example.com',
      message: 'Перезвоните',
      publicFormId: 'form-main',
      attribution: { ...noAttribution, utmSource: 'yandex', utmCampaign: 'winter', landingPage: 'https://example.ru/landing?x=1', referrer: 'https://ya.ru/' },
      commentCount: 0,
    });
    expect(request!.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Matched to a contact in contacts (test/contacts.integration.test.ts has the rest).
    expect(request!.contactId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const got = await h.client.getRequest({ id: request!.id }, A);
    expect(got.request).toEqual(request);
  });

  it('the same phone written differently is a repeat; an e-mail repeats case-insensitively; no contact point is primary with contact none', async () => {
    const t = tenant('tenant-repeat');
    const first = await h.client.createRequest(form({ phone: '+7 916 000 11 22' }), t);
    const second = await h.client.createRequest(form({ phone: '8 (916) 000-11-22', channel: Channel.CHANNEL_PHONE }), t);
    const third = await h.client.createRequest(form({ phone: '+79160001122' }), t);
    expect([first, second, third].map((r) => r.request!.axes!.number)).toEqual([NumberAxis.NUMBER_AXIS_PRIMARY, NumberAxis.NUMBER_AXIS_REPEAT, NumberAxis.NUMBER_AXIS_REPEAT]);
    expect(second.request!.axes!.channel).toBe(Channel.CHANNEL_PHONE);

    const mailFirst = await h.client.createRequest(form({ email: 'Anna@Example.com' }), t);
    const mailAgain = await h.client.createRequest(form({ email: 'anna@example.COM', channel: Channel.CHANNEL_EMAIL }), t);
    expect(mailFirst.request!.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
    expect(mailAgain.request!.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);
    // A new phone with a known e-mail is a repeat too (same phone OR same e-mail).
    const mixed = await h.client.createRequest(form({ phone: '+7 903 555 00 00', email: 'ANNA@example.com' }), t);
    expect(mixed.request!.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);

    const chat = await h.client.createRequest(form({ channel: Channel.CHANNEL_CHAT, message: 'hello' }), t);
    expect(chat.request!.axes).toMatchObject({ number: NumberAxis.NUMBER_AXIS_PRIMARY, contact: ContactAxis.CONTACT_AXIS_NONE, channel: Channel.CHANNEL_CHAT });
  });

  it('under concurrency exactly one of the first requests from one phone is primary', async () => {
    const t = tenant('tenant-race');
    const spellings = ['+7 926 111 22 33', '8 (926) 111-22-33', '+79261112233', '89261112233'];
    const n = 8; // below the service's pool size (10), so every call holds a connection at once
    // Without the per-contact advisory lock every create would have checked "seen before?" while the
    // inserts were held back, and all would be primary.
    const results = await race(n, () => Array.from({ length: n }, (_, i) => h.client.createRequest(form({ phone: spellings[i % 4], message: `race ${i}` }), t)));
    const primaries = results.filter((r) => r.request!.axes!.number === NumberAxis.NUMBER_AXIS_PRIMARY);
    expect(primaries).toHaveLength(1);
    // ...and it is the earliest one in the journal's order.
    const journal = await h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 100, cursor: '', contactId: '', ...NO_LIST_FILTERS }, t);
    expect(journal.requests).toHaveLength(n);
    expect(journal.requests[n - 1].id).toBe(primaries[0].request!.id);
  });
});

describe('the journal (ListRequests)', () => {
  const L = tenant('tenant-list');
  const list = (over: Partial<Parameters<Harness['client']['listRequests']>[0]> = {}) =>
    h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '', contactId: '', ...NO_LIST_FILTERS, ...over }, L);
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const make = async (key: string, req: CreateRequestRequest, createdAt: string) => {
      const { request } = await h.client.createRequest(req, L);
      ids[key] = request!.id;
      // Fixed arrival times make the date filters and the order deterministic.
      await h.pool.query('UPDATE requests SET created_at = $1 WHERE id = $2', [createdAt, request!.id]);
    };
    await make('ivan', form({ name: 'Иван Петров', phone: '+7 999 123 45 67' }), '2026-01-01T10:00:00.000Z');
    await make('maria', form({ name: 'Maria Lopez', email: 'maria.lopez@example.org' }), '2026-01-02T00:00:00.000Z');
    await make('chat', form({ channel: Channel.CHANNEL_CHAT, name: 'Chat visitor' }), '2026-01-03T09:00:00.000Z');
    await make('call', form({ channel: Channel.CHANNEL_PHONE, phone: '+7 495 000 00 01' }), '2026-01-03T09:00:00.000Z'); // same instant as chat
    await make('spam', form({ name: 'Spam 100%_off', email: 'spam@example.net' }), '2026-01-04T00:00:00.000Z');
    await make('petr', form({ name: 'Пётр', phone: '+7 912 765 43 21' }), '2026-01-05T12:00:00.000Z');
    await make('olga', form({ name: 'Olga', email: 'OLGA@Corp.example.com' }), '2026-01-06T12:00:00.000Z');
    // A state change is not an RPC yet (routing comes later): set it directly to test the filter.
    await h.pool.query(`UPDATE requests SET state = 'trash' WHERE id = $1`, [ids.spam]);
  });

  it('lists newest first with (created_at, id) breaking ties', async () => {
    const { requests, nextCursor } = await list();
    const tie = [ids.chat, ids.call].sort().reverse();
    expect(requests.map((r) => r.id)).toEqual([ids.olga, ids.petr, ids.spam, ...tie, ids.maria, ids.ivan]);
    expect(nextCursor).toBe('');
  });

  it('paginates across pages with an opaque cursor, without gaps or duplicates (also across a tie)', async () => {
    const all = (await list({ pageSize: 100 })).requests.map((r) => r.id);
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor = '';
    do {
      const page = await list({ pageSize: 2, cursor });
      pages.push(page.requests.length);
      seen.push(...page.requests.map((r) => r.id));
      cursor = page.nextCursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor);
    expect(pages).toEqual([2, 2, 2, 1]);
    expect(seen).toEqual(all);
  });

  it('filters by state and channel', async () => {
    expect((await list({ states: [RequestState.REQUEST_STATE_TRASH] })).requests.map((r) => r.id)).toEqual([ids.spam]);
    expect((await list({ states: [RequestState.REQUEST_STATE_NEW] })).requests).toHaveLength(6);
    expect((await list({ channels: [Channel.CHANNEL_CHAT, Channel.CHANNEL_PHONE] })).requests.map((r) => r.id).sort()).toEqual([ids.chat, ids.call].sort());
    expect((await list({ states: [RequestState.REQUEST_STATE_TRASH], channels: [Channel.CHANNEL_CHAT] })).requests).toEqual([]);
  });

  it('filters by a half-open date range [from, to)', async () => {
    const got = await list({ createdFrom: '2026-01-02T00:00:00Z', createdTo: '2026-01-04T00:00:00Z' });
    expect(got.requests.map((r) => r.id).sort()).toEqual([ids.maria, ids.chat, ids.call].sort());
    // Offsets are understood: 03:00+03:00 is midnight UTC.
    expect((await list({ createdFrom: '2026-01-04T03:00:00+03:00', createdTo: '2026-01-05T00:00:00Z' })).requests.map((r) => r.id)).toEqual([ids.spam]);
  });

  it('searches name (case-insensitive, any script), e-mail and phone digits in any format', async () => {
    const q = async (query: string) => (await list({ query })).requests.map((r) => r.id).sort();
    expect(await q('иван')).toEqual([ids.ivan]);
    expect(await q('ПЁТР')).toEqual([ids.petr]);
    expect(await q('LOPEZ')).toEqual([ids.maria]);
    expect(await q('corp.EXAMPLE')).toEqual([ids.olga]);
    expect(await q('example.')).toEqual([ids.maria, ids.spam, ids.olga].sort());
    expect(await q('(999) 123-45')).toEqual([ids.ivan]);
    expect(await q('8 (999) 123-45-67')).toEqual([ids.ivan]);
    expect(await q('+7 912 765')).toEqual([ids.petr]);
    expect(await q('4321')).toEqual([ids.petr]);
    // LIKE wildcards in the query are matched literally.
    expect(await q('100%_')).toEqual([ids.spam]);
    expect(await q('%')).toEqual([ids.spam]);
    expect(await q('nobody')).toEqual([]);
  });

  it('combines the search with filters and pagination', async () => {
    const first = await list({ query: 'example', pageSize: 1 });
    expect(first.requests.map((r) => r.id)).toEqual([ids.olga]);
    const second = await list({ query: 'example', pageSize: 1, cursor: first.nextCursor });
    expect(second.requests.map((r) => r.id)).toEqual([ids.spam]);
    const third = await list({ query: 'example', pageSize: 1, cursor: second.nextCursor });
    expect(third.requests.map((r) => r.id)).toEqual([ids.maria]);
    expect(third.nextCursor).toBe('');
  });
});

describe('comments', () => {
  it('adds comments by the caller, lists them oldest first, and never changes the state', async () => {
    const { request } = await h.client.createRequest(form({ name: 'Commented', phone: '+7 999 000 00 77' }), A);
    const c1 = await h.client.addComment({ requestId: request!.id, text: '  called, no answer  ' }, A);
    const c2 = await h.client.addComment({ requestId: request!.id, text: 'called again' }, tenant('tenant-a', 'user-a2'));
    expect(c1.comment).toMatchObject({ requestId: request!.id, authorId: 'user-a', text: 'called, no answer' });
    expect(c2.comment!.authorId).toBe('user-a2');
    const { comments } = await h.client.listComments({ requestId: request!.id }, A);
    expect(comments).toEqual([c1.comment, c2.comment]);
    const after = await h.client.getRequest({ id: request!.id }, A);
    expect(after.request).toEqual({ ...request, commentCount: 2 });
    expect(after.request!.state).toBe(RequestState.REQUEST_STATE_NEW);
    expect((await h.client.listComments({ requestId: (await h.client.createRequest(form({ email: 'x@y.ru' }), A)).request!.id }, A)).comments).toEqual([]);
  });
});

describe('idempotency', () => {
  it('50 concurrent creates with one key: one row, one event, every caller gets the same request', async () => {
    const key = `idem-${runId}`;
    const body = form({ name: 'Idem', phone: '8 (999) 555-44-33', idempotencyKey: key });
    // 8 calls blocked inside PostgreSQL at once (the rest queue for the service's 10 connections).
    const results = await race(8, () => Array.from({ length: 50 }, () => h.client.createRequest(body, A)));
    const first = results.filter((r) => !r.replayed);
    expect(first).toHaveLength(1);
    for (const r of results) expect(r.request).toEqual(first[0].request);
    expect(await count('SELECT count(*) AS n FROM requests WHERE tenant_id = $1 AND idempotency_key = $2', ['tenant-a', key])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM outbox WHERE subject = $1 AND event_type = 'crm.intake.request.created.v1'`, [first[0].request!.id])).toBe(1);

    // The same body spelled differently (same normalised input) is still a replay.
    const again = await h.client.createRequest({ ...body, phone: '+79995554433', name: ' Idem ' }, A);
    expect(again).toEqual({ request: first[0].request, replayed: true });

    // The key is scoped by tenant: tenant B's identical call creates B's own request.
    const other = await h.client.createRequest(body, B);
    expect(other.replayed).toBe(false);
    expect(other.request!.id).not.toBe(first[0].request!.id);
  });

  it('the same key with a different body is FAILED_PRECONDITION and writes nothing', async () => {
    const key = `idem-diff-${runId}`;
    await h.client.createRequest(form({ phone: '+7 999 555 44 00', idempotencyKey: key }), A);
    const before = await tableCounts();
    const err = await grpcError(h.client.createRequest(form({ phone: '+7 999 555 44 01', idempotencyKey: key }), A));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('Idempotency-Key was already used with a different body');
    expect(await tableCounts()).toEqual(before);
  });
});

describe('bad input', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: [string, CreateRequestRequest, string[]][] = [
    ['an invalid phone', form({ phone: '12345' }), ['phone']],
    ['an unspecified channel', form({ channel: Channel.CHANNEL_UNSPECIFIED, phone: '+79991234567' }), ['channel']],
    ['a web form without phone or e-mail', form({ name: 'Nobody' }), ['phone', 'email']],
    ['an invalid e-mail', form({ email: 'not@an@email' }), ['email']],
    ['an oversized name', form({ phone: '+79991234567', name: long(201) }), ['name']],
    ['an oversized message', form({ phone: '+79991234567', message: long(5001) }), ['message']],
    ['an oversized UTM tag', form({ phone: '+79991234567', attribution: { ...noAttribution, utmSource: long(201) } }), ['attribution.utm_source']],
    ['a non-http landing page', form({ phone: '+79991234567', attribution: { ...noAttribution, landingPage: 'javascript:alert(1)' } }), ['attribution.landing_page']],
    ['an oversized referrer', form({ phone: '+79991234567', attribution: { ...noAttribution, referrer: `https://e.com/${long(2000)}` } }), ['attribution.referrer']],
    ['an unknown default country', form({ phone: '+79991234567', defaultCountry: 'ZZ' }), ['default_country']],
  ];

  it.each(cases)('CreateRequest with %s is INVALID_ARGUMENT with field violations and writes nothing', async (_what, req, fields) => {
    const before = await tableCounts();
    const err = await grpcError(h.client.createRequest({ ...req, idempotencyKey: `bad-${runId}` }, A));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.violations.map((v) => v.field)).toEqual(fields);
    expect(await tableCounts()).toEqual(before);
  });

  it('AddComment with empty, oversized text or a malformed id is INVALID_ARGUMENT and writes nothing', async () => {
    const { request } = await h.client.createRequest(form({ email: 'comment-bad@example.com' }), A);
    const before = await tableCounts();
    for (const [req, field] of [
      [{ requestId: request!.id, text: '   ' }, 'text'],
      [{ requestId: request!.id, text: long(4001) }, 'text'],
      [{ requestId: 'not-a-uuid', text: 'hi' }, 'request_id'],
    ] as const) {
      const err = await grpcError(h.client.addComment(req, A));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.violations.map((v) => v.field)).toEqual([field]);
    }
    expect(await tableCounts()).toEqual(before);
  });

  it('ListRequests with a malformed cursor, page_size above 100, bad dates or an unspecified state is INVALID_ARGUMENT', async () => {
    const base = { states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '', contactId: '', ...NO_LIST_FILTERS };
    const cases = [
      [{ ...base, cursor: 'definitely-not-a-cursor' }, 'cursor'],
      [{ ...base, cursor: Buffer.from('{"v":1,"t":"x","i":"y"}').toString('base64url') }, 'cursor'],
      [{ ...base, pageSize: 101 }, 'page_size'],
      [{ ...base, createdFrom: 'last week' }, 'created_from'],
      [{ ...base, states: [RequestState.REQUEST_STATE_UNSPECIFIED] }, 'states[0]'],
    ] as const;
    for (const [req, field] of cases) {
      const err = await grpcError(h.client.listRequests({ ...req, states: [...req.states] }, A));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.violations.map((v) => v.field)).toEqual([field]);
    }
    expect((await grpcError(h.client.getRequest({ id: '' }, A))).code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('two tenants', () => {
  it("tenant B cannot see, list or comment on A's request, and A's phone is primary for B", async () => {
    const { request } = await h.client.createRequest(form({ name: 'Only A', phone: '+7 999 777 66 55', email: 'only-a@example.com' }), A);
    await h.client.addComment({ requestId: request!.id, text: 'A note' }, A);
    const before = await tableCounts();

    const missing = await grpcError(h.client.getRequest({ id: request!.id }, B));
    expect(missing.code).toBe(status.NOT_FOUND);
    // Exactly like an id that does not exist at all.
    const absent = await grpcError(h.client.getRequest({ id: '01936f5e-0000-7000-8000-000000000000' }, B));
    expect(absent.code).toBe(status.NOT_FOUND);

    expect((await grpcError(h.client.addComment({ requestId: request!.id, text: 'B was here' }, B))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(h.client.listComments({ requestId: request!.id }, B))).code).toBe(status.NOT_FOUND);
    expect(await tableCounts()).toEqual(before);

    const all: Request[] = [];
    let cursor = '';
    do {
      const page = await h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 100, cursor, contactId: '', ...NO_LIST_FILTERS }, B);
      all.push(...page.requests);
      cursor = page.nextCursor;
    } while (cursor);
    expect(all.every((r) => r.tenantId === 'tenant-b')).toBe(true);
    expect((await h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: 'only', pageSize: 0, cursor: '', contactId: '', ...NO_LIST_FILTERS }, B)).requests).toEqual([]);

    const forB = await h.client.createRequest(form({ phone: '8 (999) 777-66-55', email: 'ONLY-A@example.com' }), B);
    expect(forB.request!.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
    expect(forB.request!.contactId).not.toBe(request!.contactId);
    expect(forB.request!.tenantId).toBe('tenant-b');
    expect((await h.client.getRequest({ id: request!.id }, A)).request!.commentCount).toBe(1);
  });
});

describe('events', () => {
  it('publishes created and commented events through the outbox as CloudEvents', async () => {
    const { messages } = await watcher;
    const { request } = await h.client.createRequest(form({ name: 'Evented', email: 'events@example.com' }), A);
    const { comment } = await h.client.addComment({ requestId: request!.id, text: 'note' }, A);
    const mine = () => messages.filter((m) => m.headers?.ce_subject?.toString() === request!.id);
    await eventually(() => mine().length, { until: (n) => n >= 2, message: 'created and commented events on Kafka' });

    const [created, commented] = mine().map((m) => ({ m, e: decodeEvent(m) }));
    expect(created.e).toMatchObject({ type: 'crm.intake.request.created.v1', source: 'crm/intake', subject: request!.id, tenantId: 'tenant-a' });
    expect(created.m.key!.toString()).toBe(`tenant-a:${request!.id}`);
    expect(decodeData(created.e, RequestCreated)).toEqual({ request });
    expect(commented.e).toMatchObject({ type: 'crm.intake.request.commented.v1', source: 'crm/intake', subject: request!.id, tenantId: 'tenant-a' });
    expect(decodeData(commented.e, RequestCommented)).toEqual({ comment });
  });
});
