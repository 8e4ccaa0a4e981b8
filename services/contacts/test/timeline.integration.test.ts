/**
 * The read models fed by Kafka against the real engines: intake's request events and the funnel's deal
 * events are published on the run's topics exactly as those services would (CloudEvents, protobuf, keyed
 * <tenant>:<aggregate>), and contacts' consumers turn them into request_links, deal_links, timeline
 * entries and card states; a redelivered event changes nothing. Then the bases (cold, free,
 * disconnected) follow from that history, and tenant B sees none of tenant A's.
 */
import { ClientCardsServiceService, ClientState, Base, type ClientCard } from '@crm/contracts/crm/contacts/v1/cards';
import { ContactsServiceService, CreateContactRequest, PointType, type Contact, type TimelineEntry } from '@crm/contracts/crm/contacts/v1/contacts';
import { DealCreated, DealLost, DealSnapshot, DealStatus, DealWon } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import { RequestCommented, RequestContactLinked, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, QualificationAxis, Request } from '@crm/contracts/crm/intake/v1/request';
import { uuidv7 } from '@crm/db';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import { TypedProducer, type Codec } from '@crm/kafka';
import type { RunningService } from '@crm/service';
import { eventually, uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka, Producer } from 'kafkajs';
import { startTestContacts, stopTestContacts } from './harness';
import { DEAL_CREATED, DEAL_LOST, DEAL_TOPIC, DEAL_WON, REQUEST_COMMENTED, REQUEST_CONTACT_LINKED, REQUEST_CREATED, REQUEST_TOPIC } from '../src/events';
import { listTimeline } from '../src/timeline.service';

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'seller-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'seller-b', callerKind: 'user' };
const suffix = `.${uniqueName('timeline')}`;

let db: TestDatabase;
let kafka: Kafka;
let producer: Producer;
let intake: TypedProducer;
let funnel: TypedProducer;
let svc: RunningService;
let contacts: PromiseClient<typeof ContactsServiceService>;
let cards: PromiseClient<typeof ClientCardsServiceService>;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('contacts_timeline', suffix));
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  intake = new TypedProducer(producer, 'crm/intake');
  funnel = new TypedProducer(producer, 'crm/funnel');
  const address = `127.0.0.1:${svc.grpc.port}`;
  contacts = createClient(ContactsServiceService, { address });
  cards = createClient(ClientCardsServiceService, { address });
}, 90_000);

afterAll(async () => {
  contacts?.close();
  cards?.close();
  await producer?.disconnect();
  await stopTestContacts({ db, kafka, svc }, suffix);
});

async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function q<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.fork().getConnection().execute<T[]>(sql, params);
}

async function newContact(ctx: TenantContext, name: string): Promise<Contact> {
  const res = await contacts.createContact(CreateContactRequest.fromPartial({ name, points: [{ type: PointType.POINT_TYPE_EMAIL, value: `${uniqueName('p')}@example.com` }] }), ctx);
  return res.contact!;
}

async function cardOf(ctx: TenantContext, contactId: string): Promise<ClientCard> {
  const res = await cards.listClientCards({ states: [], kinds: [], ownerId: '', contactId, companyId: '', query: '', pageSize: 0, cursor: '' }, ctx);
  return res.cards[0]!;
}

async function publish<T>(source: TypedProducer, topic: string, type: string, codec: Codec<T>, payload: T, subject: string, tenantId: string, id = uuidv7()): Promise<string> {
  await source.publish(`${topic}${suffix}`, [{ type, codec, payload, subject, tenantId, id }]);
  return id;
}

function requestCreated(tenantId: string, contactId: string, over: Partial<Request> = {}) {
  const request = Request.fromPartial({
    id: uuidv7(),
    tenantId,
    contactId,
    axes: { channel: Channel.CHANNEL_WEB_FORM, qualification: QualificationAxis.QUALIFICATION_AXIS_PENDING },
    message: 'Здравствуйте! Хочу узнать цену',
    createdAt: new Date().toISOString(),
    ...over,
  });
  return { request };
}

async function entries(ctx: TenantContext, by: { contactId?: string; clientCardId?: string }): Promise<TimelineEntry[]> {
  const out: TimelineEntry[] = [];
  let cursor = '';
  do {
    const page = await listTimeline(svc.orm!, ctx.tenantId, { ...by, pageSize: 100, cursor });
    out.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const kinds = (list: TimelineEntry[]) => list.map((e) => e.kind).sort();
const counts = async () => ({
  links: (await q<{ n: number }>('SELECT count(*)::int AS n FROM request_links'))[0]!.n,
  deals: (await q<{ n: number }>('SELECT count(*)::int AS n FROM deal_links'))[0]!.n,
  entries: (await q<{ n: number }>('SELECT count(*)::int AS n FROM timeline_entries'))[0]!.n,
  history: (await q<{ n: number }>('SELECT count(*)::int AS n FROM client_card_history'))[0]!.n,
  versions: (await q<{ n: number }>('SELECT COALESCE(sum(version), 0)::int AS n FROM client_cards'))[0]!.n,
});

async function baseIds(ctx: TenantContext, base: Base, query = ''): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '';
  do {
    const res = await cards.listBase({ base, query, pageSize: 100, cursor }, ctx);
    ids.push(...res.contacts.map((c) => c.id), ...res.cards.map((c) => c.id));
    cursor = res.nextCursor;
  } while (cursor);
  return ids;
}

describe('requests on the timeline', () => {
  it('links a lead request to its contact, puts it on the contact’s and card’s timeline and makes the card potential; a redelivery changes nothing', async () => {
    const ivan = await newContact(tenantA, 'Иван Лидов');
    const card = await cardOf(tenantA, ivan.id);
    const payload = requestCreated(tenantA.tenantId, ivan.id, { axes: { channel: Channel.CHANNEL_PHONE, qualification: QualificationAxis.QUALIFICATION_AXIS_LEAD } as Request['axes'] });
    const ceId = await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, payload, payload.request.id, tenantA.tenantId);

    // The card's own state event comes back through crm.contacts.client_card.v1 as a timeline entry.
    const onCard = await eventually(() => entries(tenantA, { clientCardId: card.id }), { until: (e) => e.some((x) => x.kind === 'card_state_changed'), timeoutMs: 30_000 });
    expect(kinds(onCard)).toEqual(['card_state_changed', 'request_created']);
    const onContact = await eventually(() => entries(tenantA, { contactId: ivan.id }), { until: (e) => e.length >= 3, timeoutMs: 30_000 });
    expect(kinds(onContact)).toEqual(['card_state_changed', 'contact_created', 'request_created']);
    const req = onContact.find((e) => e.kind === 'request_created')!;
    expect(req).toMatchObject({ refType: 'request', refId: payload.request.id, summary: 'phone: Здравствуйте! Хочу узнать цену', eventType: REQUEST_CREATED, contactId: ivan.id, clientCardId: '' });
    expect(req.occurredAt).toBe(payload.request.createdAt);
    expect(onCard.find((e) => e.kind === 'card_state_changed')!.summary).toContain('not_client → potential');
    expect(await q('SELECT contact_id, channel, qualification FROM request_links WHERE request_id = ?', [payload.request.id])).toEqual([
      { contact_id: ivan.id, channel: 'phone', qualification: 'lead' },
    ]);
    const after = (await cards.getClientCard({ id: card.id }, tenantA)).card!;
    expect(after.state).toBe(ClientState.CLIENT_STATE_POTENTIAL);
    const history = (await cards.getClientCardHistory({ id: card.id }, tenantA)).changes.filter((h) => h.field === 'state');
    expect(history.map((h) => [h.fromValue, h.toValue, h.actorKind, h.actorRef])).toEqual([['not_client', 'potential', 'event', REQUEST_CREATED]]);

    // Redelivery (the same ce_id), then a marker on the same partition: once the marker is applied, the copy was too.
    const before = await counts();
    await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, payload, payload.request.id, tenantA.tenantId, ceId);
    const marker = { comment: { id: uuidv7(), requestId: payload.request.id, authorId: 'u', text: 'перезвонить завтра', createdAt: new Date().toISOString() } };
    await publish(intake, REQUEST_TOPIC, REQUEST_COMMENTED, RequestCommented, marker, payload.request.id, tenantA.tenantId);
    await eventually(() => entries(tenantA, { contactId: ivan.id }), { until: (e) => e.some((x) => x.kind === 'request_commented'), timeoutMs: 30_000 });
    const now = await counts();
    // Only the comment's two entries (contact + card) were added.
    expect(now).toEqual({ ...before, entries: before.entries + 2 });
    expect((await entries(tenantA, { clientCardId: card.id })).find((e) => e.kind === 'request_commented')!.summary).toBe('перезвонить завтра');
  });

  it('a not-yet-qualified request leaves the card as it is; an event of tenant B naming A’s contact links nothing', async () => {
    const olga = await newContact(tenantA, 'Ольга');
    const card = await cardOf(tenantA, olga.id);
    const mine = requestCreated(tenantA.tenantId, olga.id);
    const foreign = requestCreated(tenantB.tenantId, olga.id);
    const foreignId = await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, foreign, foreign.request.id, tenantB.tenantId);
    await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, mine, mine.request.id, tenantA.tenantId);
    await eventually(() => q('SELECT 1 FROM request_links WHERE request_id = ?', [mine.request.id]), { until: (r) => r.length === 1, timeoutMs: 30_000 });
    await eventually(() => q('SELECT 1 FROM processed_events WHERE event_id = ?', [foreignId]), { until: (r) => r.length === 1, timeoutMs: 30_000 });
    expect(await q('SELECT 1 FROM request_links WHERE request_id = ?', [foreign.request.id])).toEqual([]);
    expect((await cards.getClientCard({ id: card.id }, tenantA)).card!.state).toBe(ClientState.CLIENT_STATE_NOT_CLIENT);
    expect((await failure(contacts.getTimeline({ contactId: olga.id, clientCardId: '', pageSize: 0, cursor: '' }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(contacts.getTimeline({ contactId: '', clientCardId: card.id, pageSize: 0, cursor: '' }, tenantB))).code).toBe(status.NOT_FOUND);
  });

  it('the backfill’s contact_linked links an old request and adds its entry at the request’s own time, once', async () => {
    const petr = await newContact(tenantA, 'Пётр Старый');
    const requestId = uuidv7();
    const made = new Date(parseInt(requestId.replace(/-/g, '').slice(0, 12), 16)).toISOString();
    const linked = { requestId, previousContactId: '', contactId: petr.id, cause: 'backfill', channel: Channel.CHANNEL_WEB_FORM, message: 'Перезвоните  мне\nпо поводу цены' };
    await publish(intake, REQUEST_TOPIC, REQUEST_CONTACT_LINKED, RequestContactLinked, linked, requestId, tenantA.tenantId);
    const secondId = await publish(intake, REQUEST_TOPIC, REQUEST_CONTACT_LINKED, RequestContactLinked, linked, requestId, tenantA.tenantId);
    const list = await eventually(() => entries(tenantA, { contactId: petr.id }), { until: (e) => e.some((x) => x.kind === 'request_created'), timeoutMs: 30_000 });
    // Wait for the second (a different ce_id) as well: it finds the entry and adds none.
    await eventually(() => q('SELECT 1 FROM processed_events WHERE event_id = ?', [secondId]), { until: (r) => r.length === 1, timeoutMs: 30_000 });
    expect((await entries(tenantA, { contactId: petr.id })).filter((x) => x.kind === 'request_created')).toHaveLength(1);
    expect(list.find((e) => e.kind === 'request_created')!.occurredAt).toBe(made);
    // The event carries what the request said: the entry reads as one made at creation would.
    expect(list.find((e) => e.kind === 'request_created')!.summary).toBe('web_form: Перезвоните мне по поводу цены');
    expect(await q('SELECT contact_id, channel FROM request_links WHERE request_id = ?', [requestId])).toEqual([{ contact_id: petr.id, channel: 'web_form' }]);
  });

  it('a merge and its undo each leave an entry on the survivor’s timeline', async () => {
    const survivor = await newContact(tenantA, 'Сливаемый Основной');
    const loser = await newContact(tenantA, 'Сливаемый Второй');
    const { merge } = await contacts.mergeContacts({ survivorId: survivor.id, loserId: loser.id }, tenantA);
    await contacts.undoMerge({ mergeId: merge!.id }, tenantA);
    const list = await eventually(() => entries(tenantA, { contactId: survivor.id }), {
      until: (e) => e.some((x) => x.kind === 'contact_merge_undone'),
      timeoutMs: 30_000,
    });
    const merged = list.filter((e) => e.refType === 'merge');
    expect(merged.map((e) => e.kind).sort()).toEqual(['contact_merge_undone', 'contact_merged']);
    expect(merged.every((e) => e.refId === merge!.id && e.summary.includes(loser.id))).toBe(true);
  });

  it('pages a timeline newest first through GetTimeline and refuses bad arguments', async () => {
    const eva = await newContact(tenantA, 'Ева');
    for (let i = 0; i < 4; i++) {
      const p = requestCreated(tenantA.tenantId, eva.id, { message: `заявка ${i}`, createdAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() });
      await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, p, p.request.id, tenantA.tenantId);
    }
    await eventually(() => entries(tenantA, { contactId: eva.id }), { until: (e) => e.length >= 5, timeoutMs: 30_000 });
    const seen: TimelineEntry[] = [];
    let cursor = '';
    do {
      const page = await contacts.getTimeline({ contactId: eva.id, clientCardId: '', pageSize: 2, cursor }, tenantA);
      seen.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(seen.map((e) => e.occurredAt)).toEqual([...seen.map((e) => e.occurredAt)].sort().reverse());
    expect(seen.slice(1).map((e) => e.summary)).toEqual(['web_form: заявка 3', 'web_form: заявка 2', 'web_form: заявка 1', 'web_form: заявка 0']);
    const bad = [
      { contactId: '', clientCardId: '', pageSize: 0, cursor: '' },
      { contactId: eva.id, clientCardId: eva.id, pageSize: 0, cursor: '' },
      { contactId: eva.id, clientCardId: '', pageSize: 101, cursor: '' },
      { contactId: eva.id, clientCardId: '', pageSize: 0, cursor: 'not a cursor' },
      { contactId: 'x', clientCardId: '', pageSize: 0, cursor: '' },
    ];
    for (const req of bad) expect((await failure(contacts.getTimeline(req, tenantA))).code).toBe(status.INVALID_ARGUMENT);
  });
});

function snapshot(tenantId: string, cardId: string, over: Partial<DealSnapshot> = {}): DealSnapshot {
  const at = new Date().toISOString();
  return DealSnapshot.fromPartial({
    id: uuidv7(),
    tenantId,
    title: 'Поставка',
    amountMinor: 1_500_000,
    currency: 'RUB',
    pipelineId: uuidv7(),
    stageId: uuidv7(),
    stageName: 'Новая',
    status: DealStatus.DEAL_STATUS_OPEN,
    clientCardId: cardId,
    contactIds: [],
    ownerId: 'seller-a',
    requestId: '',
    createdAt: at,
    updatedAt: at,
    ...over,
  });
}

const dealStatus = async (id: string) => (await q<{ status: string }>('SELECT status FROM deal_links WHERE deal_id = ?', [id]))[0]?.status;

describe('deals, card states and the bases', () => {
  it('walks a card through the free base: lost → free; a new deal → not free; won → active and free again; a late `created` does not reopen', async () => {
    const dmitry = await newContact(tenantA, 'Дмитрий Сделкин');
    const card = await cardOf(tenantA, dmitry.id);
    expect(await baseIds(tenantA, Base.BASE_COLD, 'сделкин')).toEqual([dmitry.id]);

    const first = snapshot(tenantA.tenantId, card.id);
    await publish(funnel, DEAL_TOPIC, DEAL_CREATED, DealCreated, { deal: first }, first.id, tenantA.tenantId);
    await eventually(() => dealStatus(first.id), { until: (s) => s === 'open', timeoutMs: 30_000 });
    expect((await cards.getClientCard({ id: card.id }, tenantA)).card).toMatchObject({ state: ClientState.CLIENT_STATE_POTENTIAL, openDeals: 1 });
    expect(await baseIds(tenantA, Base.BASE_COLD, 'сделкин')).toEqual([]);
    expect(await baseIds(tenantA, Base.BASE_FREE)).not.toContain(card.id);

    const lostAt = new Date(Date.now() + 1000).toISOString();
    await publish(funnel, DEAL_TOPIC, DEAL_LOST, DealLost, { deal: { ...first, status: DealStatus.DEAL_STATUS_LOST, updatedAt: lostAt }, reason: 'дорого', changedBy: 'seller-a' }, first.id, tenantA.tenantId);
    await eventually(() => dealStatus(first.id), { until: (s) => s === 'lost', timeoutMs: 30_000 });
    expect(await baseIds(tenantA, Base.BASE_FREE)).toContain(card.id);
    expect(await baseIds(tenantA, Base.BASE_FREE, 'СДЕЛКИН')).toEqual([card.id]);
    expect((await cards.getClientCard({ id: card.id }, tenantA)).card!.state).toBe(ClientState.CLIENT_STATE_POTENTIAL);

    const second = snapshot(tenantA.tenantId, card.id, { title: 'Вторая поставка' });
    await publish(funnel, DEAL_TOPIC, DEAL_CREATED, DealCreated, { deal: second }, second.id, tenantA.tenantId);
    await eventually(() => dealStatus(second.id), { until: (s) => s === 'open', timeoutMs: 30_000 });
    expect(await baseIds(tenantA, Base.BASE_FREE)).not.toContain(card.id);

    const wonAt = new Date(Date.now() + 2000).toISOString();
    await publish(funnel, DEAL_TOPIC, DEAL_WON, DealWon, { deal: { ...second, status: DealStatus.DEAL_STATUS_WON, updatedAt: wonAt }, changedBy: 'seller-a' }, second.id, tenantA.tenantId);
    await eventually(() => dealStatus(second.id), { until: (s) => s === 'won', timeoutMs: 30_000 });
    expect((await cards.getClientCard({ id: card.id }, tenantA)).card).toMatchObject({ state: ClientState.CLIENT_STATE_ACTIVE, openDeals: 0, wonDeals: 1, lostDeals: 1 });
    expect(await baseIds(tenantA, Base.BASE_FREE)).toContain(card.id);

    // A late `created` (another ce_id, the old snapshot) after the won.
    const before = await counts();
    const lateId = await publish(funnel, DEAL_TOPIC, DEAL_CREATED, DealCreated, { deal: second }, second.id, tenantA.tenantId);
    await eventually(() => q('SELECT 1 FROM processed_events WHERE event_id = ?', [lateId]), { until: (r) => r.length === 1, timeoutMs: 30_000 });
    expect(await dealStatus(second.id)).toBe('won');
    const after = await counts();
    expect(after.history).toBe(before.history);
    expect(after.versions).toBe(before.versions);
    expect(await baseIds(tenantA, Base.BASE_FREE)).toContain(card.id);

    const onCard = await eventually(() => entries(tenantA, { clientCardId: card.id }), { until: (e) => e.filter((x) => x.kind === 'card_state_changed').length >= 2, timeoutMs: 30_000 });
    // Every deal event is an entry (the late `created` too: it did happen, at its own time).
    expect(kinds(onCard.filter((e) => e.refType === 'deal'))).toEqual(['deal_lost', 'deal_opened', 'deal_opened', 'deal_opened', 'deal_won']);
    const lost = onCard.find((e) => e.kind === 'deal_lost')!;
    expect(lost.summary).toBe('Поставка (15000.00 RUB): дорого');
    expect((await entries(tenantA, { contactId: dmitry.id })).filter((e) => e.refType === 'deal').length).toBe(onCard.filter((e) => e.refType === 'deal').length);
    // B's bases hold none of this.
    expect(await baseIds(tenantB, Base.BASE_FREE)).not.toContain(card.id);
  });

  it('disconnected: a card put in `former` by hand is listed until a new won deal makes it active again', async () => {
    const card = await cardOf(tenantA, (await newContact(tenantA, 'Ушедший Клиент')).id);
    let version = card.version;
    for (const [state, reason] of [
      [ClientState.CLIENT_STATE_POTENTIAL, 'интерес'],
      [ClientState.CLIENT_STATE_ACTIVE, 'купил'],
      [ClientState.CLIENT_STATE_FORMER, 'перестал отвечать'],
    ] as const) {
      version = (await cards.changeClientCardState({ id: card.id, state, reason, expectedVersion: version }, tenantA)).card!.version;
    }
    expect(await baseIds(tenantA, Base.BASE_DISCONNECTED)).toContain(card.id);
    expect(await baseIds(tenantA, Base.BASE_DISCONNECTED, 'ушедший')).toEqual([card.id]);
    expect(await baseIds(tenantB, Base.BASE_DISCONNECTED)).toEqual([]);
    const deal = snapshot(tenantA.tenantId, card.id, { status: DealStatus.DEAL_STATUS_WON });
    await publish(funnel, DEAL_TOPIC, DEAL_WON, DealWon, { deal, changedBy: 'seller-a' }, deal.id, tenantA.tenantId);
    await eventually(() => cards.getClientCard({ id: card.id }, tenantA), { until: (r) => r.card!.state === ClientState.CLIENT_STATE_ACTIVE, timeoutMs: 30_000 });
    expect(await baseIds(tenantA, Base.BASE_DISCONNECTED)).not.toContain(card.id);
    const history = (await cards.getClientCardHistory({ id: card.id }, tenantA)).changes.filter((h) => h.field === 'state');
    expect(history.at(-1)).toMatchObject({ fromValue: 'former', toValue: 'active', actorKind: 'event', actorRef: DEAL_WON });
  });

  it('cold: contacts with no request and no deal; a request or a deal naming them takes them out; paged; per tenant', async () => {
    const tag = `Холодный ${uniqueName('c').slice(-6)}`;
    const cold: Contact[] = [];
    for (let i = 0; i < 3; i++) cold.push(await newContact(tenantA, `${tag} ${i}`));
    const bCold = await newContact(tenantB, `${tag} B`);
    const pages: string[] = [];
    let cursor = '';
    do {
      const res = await cards.listBase({ base: Base.BASE_COLD, query: tag, pageSize: 1, cursor }, tenantA);
      expect(res.cards).toEqual([]);
      pages.push(...res.contacts.map((c) => c.id));
      cursor = res.nextCursor;
    } while (cursor);
    expect(pages).toEqual(cold.map((c) => c.id).reverse());
    expect(await baseIds(tenantB, Base.BASE_COLD, tag)).toEqual([bCold.id]);

    // A request of cold[0]; a deal on some company's card naming cold[1] among its contacts.
    const r = requestCreated(tenantA.tenantId, cold[0]!.id);
    await publish(intake, REQUEST_TOPIC, REQUEST_CREATED, RequestCreated, r, r.request.id, tenantA.tenantId);
    const someCard = await cardOf(tenantA, (await newContact(tenantA, 'Лицо компании')).id);
    const deal = snapshot(tenantA.tenantId, someCard.id, { contactIds: [cold[1]!.id] });
    await publish(funnel, DEAL_TOPIC, DEAL_CREATED, DealCreated, { deal }, deal.id, tenantA.tenantId);
    await eventually(() => baseIds(tenantA, Base.BASE_COLD, tag), { until: (ids) => ids.length === 1, timeoutMs: 30_000 });
    expect(await baseIds(tenantA, Base.BASE_COLD, tag)).toEqual([cold[2]!.id]);
    expect((await entries(tenantA, { contactId: cold[1]!.id })).map((e) => e.kind)).toContain('deal_opened');

    // The e-mail of a cold contact finds it too.
    const email = cold[2]!.points[0]!.value;
    expect(await baseIds(tenantA, Base.BASE_COLD, email.toUpperCase())).toEqual([cold[2]!.id]);

    expect((await failure(cards.listBase({ base: Base.BASE_UNSPECIFIED, query: '', pageSize: 0, cursor: '' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    await newContact(tenantA, 'Ещё один холодный'); // two cold contacts: a page of one has a next page
    const coldCursor = (await cards.listBase({ base: Base.BASE_COLD, query: '', pageSize: 1, cursor: '' }, tenantA)).nextCursor;
    expect(coldCursor).not.toBe('');
    expect((await failure(cards.listBase({ base: Base.BASE_FREE, query: '', pageSize: 1, cursor: coldCursor }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
  });
});
