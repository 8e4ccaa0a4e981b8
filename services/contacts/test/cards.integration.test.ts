/**
 * Companies and client cards against the real engines over real gRPC (startContacts on a fresh
 * PostgreSQL database, per-run Kafka topics), always with two tenants: INN checks, the tax id owned per
 * tenant, idempotent creates, versions, contacts with roles, card kinds and agents, the lifecycle by hand
 * with its history and events, lists with filters; bad input is refused and leaves nothing half-written.
 */
import { ClientCardChanged, CompanyChanged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { ClientCardsServiceService, ClientKind, ClientState, CompaniesServiceService, type ClientCard } from '@crm/contracts/crm/contacts/v1/cards';
import { ContactsServiceService, CreateContactRequest, PointType, type Contact } from '@crm/contracts/crm/contacts/v1/contacts';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { collect, eventually, header, runId, uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { startTestContacts, stopTestContacts } from './harness';
import { CARD_CHANGED, CARD_TOPIC, COMPANY_CREATED, COMPANY_TOPIC, COMPANY_UPDATED } from '../src/events';

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'seller-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'seller-b', callerKind: 'user' };
const suffix = `.${uniqueName('cards')}`;

// Valid INNs (check digits right): organisations and an individual.
const INN_SBER = '7707083893';
const INN_GAZPROM = '7736050003';
const INN_YANDEX = '7736207543';
const INN_PERSON = '500100732259';

let db: TestDatabase;
let kafka: Kafka;
let svc: RunningService;
let contacts: PromiseClient<typeof ContactsServiceService>;
let companies: PromiseClient<typeof CompaniesServiceService>;
let cards: PromiseClient<typeof ClientCardsServiceService>;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('contacts_cards', suffix));
  const address = `127.0.0.1:${svc.grpc.port}`;
  contacts = createClient(ContactsServiceService, { address });
  companies = createClient(CompaniesServiceService, { address });
  cards = createClient(ClientCardsServiceService, { address });
}, 90_000);

afterAll(async () => {
  contacts?.close();
  companies?.close();
  cards?.close();
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

const meta = (err: ServiceError, key: string) => err.metadata?.get(key)[0]?.toString();

async function q<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.fork().getConnection().execute<T[]>(sql, params);
}

/** Rows written by everything a failed call could have touched. */
async function footprint(): Promise<Record<string, number>> {
  const tables = ['companies', 'company_contacts', 'client_cards', 'client_card_history', 'outbox'];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (await q<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0]!.n;
  out.contactVersions = (await q<{ n: number }>('SELECT COALESCE(sum(version), 0)::int AS n FROM contacts'))[0]!.n;
  return out;
}

async function newContact(ctx: TenantContext, name: string): Promise<Contact> {
  const email = `${uniqueName('p')}@example.com`;
  const res = await contacts.createContact(CreateContactRequest.fromPartial({ name, points: [{ type: PointType.POINT_TYPE_EMAIL, value: email }] }), ctx);
  return res.contact!;
}

async function personalCard(ctx: TenantContext, contactId: string): Promise<ClientCard> {
  const { cards: found } = await cards.listClientCards({ states: [], kinds: [], ownerId: '', contactId, companyId: '', query: '', pageSize: 0, cursor: '' }, ctx);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const noCompany = { name: '', taxId: '', addresses: [], idempotencyKey: '' };
const listCards = { states: [], kinds: [], ownerId: '', contactId: '', companyId: '', query: '', pageSize: 0, cursor: '' };
const noUpdate = { ownerId: undefined, kind: ClientKind.CLIENT_KIND_UNSPECIFIED, agentCardId: undefined, expectedVersion: 0 };

describe('companies', () => {
  it('creates a company with a valid INN and addresses, replays an idempotent create, refuses the key with another body', async () => {
    const req = { ...noCompany, name: '  ПАО   Сбербанк ', taxId: INN_SBER, addresses: [{ kind: 'legal', text: 'Москва, ул. Вавилова, 19' }], idempotencyKey: `k-${runId}` };
    const first = await companies.createCompany(req, tenantA);
    expect(first.replayed).toBe(false);
    expect(first.company).toMatchObject({ tenantId: tenantA.tenantId, name: 'ПАО   Сбербанк', taxId: INN_SBER, version: 1, contacts: [] });
    expect(first.company!.addresses).toEqual([{ kind: 'legal', text: 'Москва, ул. Вавилова, 19' }]);
    const again = await companies.createCompany(req, tenantA);
    expect(again).toEqual({ company: first.company, replayed: true });
    const reused = await failure(companies.createCompany({ ...req, name: 'другая' }, tenantA));
    expect(reused.code).toBe(status.FAILED_PRECONDITION);
    expect(meta(reused, 'x-error-reason')).toBe('idempotency_key_reused');
    expect((await q('SELECT id FROM companies WHERE tax_id = ?', [INN_SBER])).length).toBe(1);
  });

  it('refuses an INN with a wrong check digit or length, and a duplicate INN naming its owner; another tenant may use it', async () => {
    const before = await footprint();
    for (const taxId of ['7707083894', '770708389', '77070838931', '77O7083893', '500100732250']) {
      const err = await failure(companies.createCompany({ ...noCompany, name: 'Плохой ИНН', taxId }, tenantA));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(JSON.parse(meta(err, 'x-error-violations')!)[0].field).toBe('tax_id');
    }
    const owner = (await companies.createCompany({ ...noCompany, name: 'Газпром', taxId: INN_GAZPROM }, tenantA)).company!;
    const mid = await footprint();
    const dup = await failure(companies.createCompany({ ...noCompany, name: 'Газпром-дубль', taxId: INN_GAZPROM }, tenantA));
    expect(dup.code).toBe(status.ALREADY_EXISTS);
    expect(meta(dup, 'x-error-reason')).toBe('tax_id_owned');
    expect(JSON.parse(meta(dup, 'x-error-details')!)).toEqual({ owner_company_id: owner.id });
    expect(dup.details).toContain(owner.id);
    expect(await footprint()).toEqual(mid);
    expect(mid.companies).toBe(before.companies + 1);

    // Unique per tenant: B has its own Газпром, and B's duplicate names B's owner, never A's.
    const bOwner = (await companies.createCompany({ ...noCompany, name: 'Газпром (B)', taxId: INN_GAZPROM }, tenantB)).company!;
    const bDup = await failure(companies.createCompany({ ...noCompany, name: 'x', taxId: INN_GAZPROM }, tenantB));
    expect(JSON.parse(meta(bDup, 'x-error-details')!)).toEqual({ owner_company_id: bOwner.id });

    // 12-digit INN of an individual (a sole proprietor) is accepted.
    expect((await companies.createCompany({ ...noCompany, name: 'ИП Иванов', taxId: INN_PERSON }, tenantA)).company!.taxId).toBe(INN_PERSON);
  });

  it('two concurrent creates with one INN: one company, the other named as its owner', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => companies.createCompany({ ...noCompany, name: `Гонка ${i}`, taxId: INN_YANDEX }, tenantA)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const winner = (ok[0] as PromiseFulfilledResult<{ company?: { id: string } }>).value.company!.id;
    for (const r of results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]) {
      expect((r.reason as ServiceError).code).toBe(status.ALREADY_EXISTS);
      expect(JSON.parse(meta(r.reason as ServiceError, 'x-error-details')!)).toEqual({ owner_company_id: winner });
    }
  });

  it('updates with expected_version (stale is FAILED_PRECONDITION and writes nothing), and refuses a tax id owned by another', async () => {
    const c = (await companies.createCompany({ ...noCompany, name: 'Ромашка' }, tenantA)).company!;
    const up = { id: c.id, name: undefined, taxId: undefined, addresses: [], updateAddresses: false, expectedVersion: 0 };
    const renamed = (await companies.updateCompany({ ...up, name: 'ООО «Ромашка»', expectedVersion: 1 }, tenantA)).company!;
    expect(renamed).toMatchObject({ name: 'ООО «Ромашка»', version: 2 });
    const before = await footprint();
    const stale = await failure(companies.updateCompany({ ...up, name: 'поздно', expectedVersion: 1 }, tenantA));
    expect(stale.code).toBe(status.FAILED_PRECONDITION);
    expect(meta(stale, 'x-error-reason')).toBe('stale_version');
    expect(JSON.parse(meta(stale, 'x-error-details')!)).toEqual({ current_version: '2' });
    const owned = await failure(companies.updateCompany({ ...up, taxId: INN_GAZPROM }, tenantA));
    expect(owned.code).toBe(status.ALREADY_EXISTS);
    expect((await failure(companies.updateCompany({ ...up, taxId: '1234567890' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(companies.updateCompany({ ...up, name: ' ' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect(await footprint()).toEqual(before);
    // Addresses replaced only with update_addresses; a tax id cleared with ''.
    const moved = (await companies.updateCompany({ ...up, addresses: [{ kind: 'office', text: 'Казань' }], updateAddresses: true, expectedVersion: 2 }, tenantA)).company!;
    expect(moved.addresses).toEqual([{ kind: 'office', text: 'Казань' }]);
    expect(moved.version).toBe(3);
    // B cannot read or change A's company.
    expect((await failure(companies.getCompany({ id: c.id }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(companies.updateCompany({ ...up, name: 'взлом' }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await companies.getCompany({ id: c.id }, tenantA)).company!.name).toBe('ООО «Ромашка»');
  });

  it('lists by name (Cyrillic, any case, ё = е) or tax id start in name order, keyset-paginated, one tenant only', async () => {
    const tag = `Ёлочка ${runId}`;
    for (const n of ['3', '1', '2', '5', '4']) await companies.createCompany({ ...noCompany, name: `${tag} ${n}` }, tenantA);
    await companies.createCompany({ ...noCompany, name: `${tag} B` }, tenantB);
    const seen: string[] = [];
    let cursor = '';
    do {
      const res = await companies.listCompanies({ query: tag.toUpperCase().replace('Ё', 'Е'), pageSize: 2, cursor }, tenantA);
      seen.push(...res.companies.map((c) => c.name));
      cursor = res.nextCursor;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => `${tag} ${n}`));
    const byInn = await companies.listCompanies({ query: INN_GAZPROM.slice(0, 6), pageSize: 0, cursor: '' }, tenantA);
    expect(byInn.companies.map((c) => c.taxId)).toEqual([INN_GAZPROM]);
    expect((await failure(companies.listCompanies({ query: '', pageSize: 101, cursor: '' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(companies.listCompanies({ query: '', pageSize: 0, cursor: 'garbage!' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('links contacts with roles (and sets the contact’s company), unlinks them; another tenant’s contact is NOT_FOUND', async () => {
    const co = (await companies.createCompany({ ...noCompany, name: 'Вектор' }, tenantA)).company!;
    const ivan = await newContact(tenantA, 'Иван Петров');
    const linked = (await companies.setCompanyContact({ companyId: co.id, contactId: ivan.id, role: 'director' }, tenantA)).company!;
    expect(linked.contacts).toEqual([{ contactId: ivan.id, role: 'director', contactName: 'Иван Петров' }]);
    expect(linked.version).toBe(2);
    expect((await contacts.getContact({ id: ivan.id }, tenantA)).contact!.companyId).toBe(co.id);
    const role = (await companies.setCompanyContact({ companyId: co.id, contactId: ivan.id, role: 'accountant' }, tenantA)).company!;
    expect(role.contacts.map((c) => c.role)).toEqual(['accountant']);

    const stranger = await newContact(tenantB, 'Чужой');
    const before = await footprint();
    expect((await failure(companies.setCompanyContact({ companyId: co.id, contactId: stranger.id, role: '' }, tenantA))).code).toBe(status.NOT_FOUND);
    expect((await failure(companies.setCompanyContact({ companyId: co.id, contactId: ivan.id, role: '' }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(companies.setCompanyContact({ companyId: co.id, contactId: ivan.id, role: 'x'.repeat(101) }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect(await footprint()).toEqual(before);

    const removed = (await companies.removeCompanyContact({ companyId: co.id, contactId: ivan.id }, tenantA)).company!;
    expect(removed.contacts).toEqual([]);
    expect((await contacts.getContact({ id: ivan.id }, tenantA)).contact!.companyId).toBe('');
    // Removing again changes nothing.
    expect((await companies.removeCompanyContact({ companyId: co.id, contactId: ivan.id }, tenantA)).company!.version).toBe(removed.version);
  });

  it('publishes CompanyChanged for creates and updates through the outbox', async () => {
    const watcher = await collect(kafka, `${COMPANY_TOPIC}${suffix}`, `companies-watch-${runId}`);
    try {
      const c = (await companies.createCompany({ ...noCompany, name: 'С событием' }, tenantB)).company!;
      await companies.updateCompany({ id: c.id, name: 'С событием 2', taxId: undefined, addresses: [], updateAddresses: false, expectedVersion: 1 }, tenantB);
      const mine = await eventually(() => watcher.messages.filter((m) => header(m, 'ce_subject') === c.id), { until: (m) => m.length >= 2, timeoutMs: 30_000 });
      expect(mine.map((m) => header(m, 'ce_type'))).toEqual([COMPANY_CREATED, COMPANY_UPDATED]);
      expect(mine.every((m) => header(m, 'ce_tenantid') === tenantB.tenantId)).toBe(true);
      expect(CompanyChanged.decode(mine[1]!.value!).company).toMatchObject({ id: c.id, name: 'С событием 2', version: 2 });
    } finally {
      await watcher.stop();
    }
  });
});

describe('client cards', () => {
  it('every new contact has one not_client / direct card; a second card for it is ALREADY_EXISTS naming the card', async () => {
    const anna = await newContact(tenantA, 'Анна');
    const card = await personalCard(tenantA, anna.id);
    expect(card).toMatchObject({ contactId: anna.id, state: ClientState.CLIENT_STATE_NOT_CLIENT, kind: ClientKind.CLIENT_KIND_DIRECT, displayName: 'Анна', version: 1, openDeals: 0 });
    const err = await failure(cards.createClientCard({ contactId: anna.id, companyId: '', kind: ClientKind.CLIENT_KIND_DIRECT, ownerId: '', agentCardId: '' }, tenantA));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(JSON.parse(meta(err, 'x-error-details')!)).toEqual({ card_id: card.id });
    expect((await cards.getClientCardHistory({ id: card.id }, tenantA)).changes.map((c) => [c.field, c.toValue])).toEqual([['created', 'not_client']]);
  });

  it('agents: via_agent needs an agent_partner card of the same tenant; nothing is written when refused', async () => {
    const agency = (await companies.createCompany({ ...noCompany, name: 'Агентство Альфа' }, tenantA)).company!;
    const agent = (await cards.createClientCard({ contactId: '', companyId: agency.id, kind: ClientKind.CLIENT_KIND_AGENT_PARTNER, ownerId: 'seller-a', agentCardId: '' }, tenantA)).card!;
    expect(agent).toMatchObject({ companyId: agency.id, kind: ClientKind.CLIENT_KIND_AGENT_PARTNER, displayName: 'Агентство Альфа', ownerId: 'seller-a' });
    const client = (await companies.createCompany({ ...noCompany, name: 'Клиент через агента' }, tenantA)).company!;
    const plain = await personalCard(tenantA, (await newContact(tenantA, 'Не агент')).id);
    const bAgency = (await companies.createCompany({ ...noCompany, name: 'Агентство B' }, tenantB)).company!;
    const bAgent = (await cards.createClientCard({ contactId: '', companyId: bAgency.id, kind: ClientKind.CLIENT_KIND_AGENT_PARTNER, ownerId: '', agentCardId: '' }, tenantB)).card!;

    const base = { contactId: '', companyId: client.id, kind: ClientKind.CLIENT_KIND_VIA_AGENT, ownerId: '', agentCardId: '' };
    const before = await footprint();
    const noAgent = await failure(cards.createClientCard(base, tenantA));
    expect(noAgent.code).toBe(status.INVALID_ARGUMENT);
    expect(JSON.parse(meta(noAgent, 'x-error-violations')!)[0].field).toBe('agent_card_id');
    expect((await failure(cards.createClientCard({ ...base, agentCardId: bAgent.id }, tenantA))).code).toBe(status.NOT_FOUND);
    const notPartner = await failure(cards.createClientCard({ ...base, agentCardId: plain.id }, tenantA));
    expect(notPartner.code).toBe(status.FAILED_PRECONDITION);
    expect(meta(notPartner, 'x-error-reason')).toBe('agent_not_partner');
    expect((await failure(cards.createClientCard({ ...base, kind: ClientKind.CLIENT_KIND_DIRECT, agentCardId: agent.id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(cards.createClientCard({ ...base, contactId: plain.contactId, agentCardId: agent.id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(cards.createClientCard({ ...base, companyId: bAgency.id, agentCardId: agent.id }, tenantA))).code).toBe(status.NOT_FOUND);
    expect((await failure(cards.createClientCard({ ...base, kind: 99 as ClientKind, agentCardId: agent.id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect(await footprint()).toEqual(before);

    const brought = (await cards.createClientCard({ ...base, agentCardId: agent.id }, tenantA)).card!;
    expect(brought).toMatchObject({ kind: ClientKind.CLIENT_KIND_VIA_AGENT, agentCardId: agent.id, state: ClientState.CLIENT_STATE_NOT_CLIENT });

    // The agent cannot stop being a partner while it has clients.
    const inUse = await failure(cards.updateClientCard({ ...noUpdate, id: agent.id, kind: ClientKind.CLIENT_KIND_DIRECT }, tenantA));
    expect(inUse.code).toBe(status.FAILED_PRECONDITION);
    expect(meta(inUse, 'x-error-reason')).toBe('agent_in_use');
    // Lists by kind and by company, in one tenant only.
    const partners = await cards.listClientCards({ ...listCards, kinds: [ClientKind.CLIENT_KIND_AGENT_PARTNER] }, tenantA);
    expect(partners.cards.map((c) => c.id)).toEqual([agent.id]);
    expect((await cards.listClientCards({ ...listCards, companyId: client.id }, tenantA)).cards.map((c) => c.id)).toEqual([brought.id]);
    expect((await cards.listClientCards({ ...listCards, companyId: client.id }, tenantB)).cards).toEqual([]);
  });

  it('updates owner and kind with a history row and an event per field; stale version and bad values change nothing', async () => {
    const card = await personalCard(tenantA, (await newContact(tenantA, 'Олег')).id);
    const watcher = await collect(kafka, `${CARD_TOPIC}${suffix}`, `cards-watch-${runId}`);
    try {
      const updated = (await cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: 'seller-7', kind: ClientKind.CLIENT_KIND_AGENT_PARTNER, expectedVersion: 1 }, tenantA)).card!;
      expect(updated).toMatchObject({ ownerId: 'seller-7', kind: ClientKind.CLIENT_KIND_AGENT_PARTNER, version: 2 });
      const before = await footprint();
      const stale = await failure(cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: 'seller-8', expectedVersion: 1 }, tenantA));
      expect(stale.code).toBe(status.FAILED_PRECONDITION);
      expect(meta(stale, 'x-error-reason')).toBe('stale_version');
      expect((await failure(cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: 'bad owner!' }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
      expect((await failure(cards.updateClientCard({ ...noUpdate, id: card.id, kind: ClientKind.CLIENT_KIND_VIA_AGENT }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
      expect((await failure(cards.updateClientCard({ ...noUpdate, id: card.id, kind: ClientKind.CLIENT_KIND_VIA_AGENT, agentCardId: card.id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
      expect((await failure(cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: 'x' }, tenantB))).code).toBe(status.NOT_FOUND);
      expect(await footprint()).toEqual(before);
      // Clearing the owner; an update that changes nothing writes nothing.
      expect((await cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: '' }, tenantA)).card!.ownerId).toBe('');
      const mid = await footprint();
      expect((await cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: '' }, tenantA)).card!.version).toBe(3);
      expect(await footprint()).toEqual(mid);

      const history = (await cards.getClientCardHistory({ id: card.id }, tenantA)).changes;
      expect(history[0]).toMatchObject({ field: 'created', toValue: 'not_client' });
      expect(history.slice(1).map((h) => [h.field, h.fromValue, h.toValue, h.actorKind, h.actorRef])).toEqual([
        ['owner', '', 'seller-7', 'user', 'seller-a'],
        ['kind', 'direct', 'agent_partner', 'user', 'seller-a'],
        ['owner', 'seller-7', '', 'user', 'seller-a'],
      ]);
      const events = await eventually(() => watcher.messages.filter((m) => header(m, 'ce_subject') === card.id && header(m, 'ce_type') === CARD_CHANGED), {
        until: (m) => m.length >= 3,
        timeoutMs: 30_000,
      });
      expect(events.map((m) => ClientCardChanged.decode(m.value!).change!.field)).toEqual(['owner', 'kind', 'owner']);
      expect(ClientCardChanged.decode(events[2]!.value!).card).toMatchObject({ id: card.id, version: 3, ownerId: '' });
    } finally {
      await watcher.stop();
    }
    expect((await failure(cards.getClientCardHistory({ id: card.id }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(cards.getClientCard({ id: card.id }, tenantB))).code).toBe(status.NOT_FOUND);
  });

  it('changes state by hand along the lifecycle only, with a required reason, recorded in the history', async () => {
    const card = await personalCard(tenantA, (await newContact(tenantA, 'Мария')).id);
    const change = (state: ClientState, reason: string, expectedVersion = 0, ctx = tenantA) => cards.changeClientCardState({ id: card.id, state, reason, expectedVersion }, ctx);
    const before = await footprint();
    for (const reason of ['', '   ', 'x'.repeat(501)]) {
      const err = await failure(change(ClientState.CLIENT_STATE_POTENTIAL, reason));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(JSON.parse(meta(err, 'x-error-violations')!)[0].field).toBe('reason');
    }
    expect((await failure(change(ClientState.CLIENT_STATE_UNSPECIFIED, 'r'))).code).toBe(status.INVALID_ARGUMENT);
    for (const to of [ClientState.CLIENT_STATE_ACTIVE, ClientState.CLIENT_STATE_FORMER, ClientState.CLIENT_STATE_NOT_CLIENT]) {
      const err = await failure(change(to, 'не по правилам'));
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(meta(err, 'x-error-reason')).toBe('transition_not_allowed');
      expect(JSON.parse(meta(err, 'x-error-details')!)).toMatchObject({ from: 'not_client', allowed: 'potential' });
    }
    expect((await failure(change(ClientState.CLIENT_STATE_POTENTIAL, 'чужой', 0, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(change(ClientState.CLIENT_STATE_POTENTIAL, 'старое', 7))).code).toBe(status.FAILED_PRECONDITION);
    expect(await footprint()).toEqual(before);

    const path: [ClientState, string][] = [
      [ClientState.CLIENT_STATE_POTENTIAL, 'позвонила, интересуется'],
      [ClientState.CLIENT_STATE_NOT_CLIENT, 'ошиблись: это поставщик'],
      [ClientState.CLIENT_STATE_POTENTIAL, 'всё-таки клиент'],
      [ClientState.CLIENT_STATE_ACTIVE, 'оплатила счёт вне воронки'],
      [ClientState.CLIENT_STATE_FORMER, 'ушла к конкуренту'],
      [ClientState.CLIENT_STATE_ACTIVE, 'вернулась'],
    ];
    let version = 1;
    for (const [state, reason] of path) {
      const after = (await change(state, reason, version)).card!;
      expect(after.state).toBe(state);
      expect(after.version).toBe(++version);
    }
    expect((await failure(change(ClientState.CLIENT_STATE_POTENTIAL, 'назад нельзя'))).code).toBe(status.FAILED_PRECONDITION);
    const history = (await cards.getClientCardHistory({ id: card.id }, tenantA)).changes.filter((h) => h.field === 'state');
    expect(history.map((h) => `${h.fromValue}>${h.toValue}:${h.reason}:${h.actorKind}`)).toEqual([
      'not_client>potential:позвонила, интересуется:user',
      'potential>not_client:ошиблись: это поставщик:user',
      'not_client>potential:всё-таки клиент:user',
      'potential>active:оплатила счёт вне воронки:user',
      'active>former:ушла к конкуренту:user',
      'former>active:вернулась:user',
    ]);
    // Filters: by state and owner, and by name; B sees none of A's.
    const active = await cards.listClientCards({ ...listCards, states: [ClientState.CLIENT_STATE_ACTIVE], query: 'МАРИЯ' }, tenantA);
    expect(active.cards.map((c) => c.id)).toEqual([card.id]);
    expect((await cards.listClientCards({ ...listCards, states: [ClientState.CLIENT_STATE_ACTIVE] }, tenantB)).cards).toEqual([]);
  });

  it('pages the card list newest change first with a cursor, and refuses malformed cursors and ids', async () => {
    const owner = uniqueName('owner');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const card = await personalCard(tenantA, (await newContact(tenantA, `Страница ${i}`)).id);
      await cards.updateClientCard({ ...noUpdate, id: card.id, ownerId: owner }, tenantA);
      made.push(card.id);
    }
    const seen: string[] = [];
    let cursor = '';
    do {
      const res = await cards.listClientCards({ ...listCards, ownerId: owner, pageSize: 2, cursor }, tenantA);
      seen.push(...res.cards.map((c) => c.id));
      cursor = res.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
    const someCursor = (await cards.listClientCards({ ...listCards, ownerId: owner, pageSize: 1 }, tenantA)).nextCursor;
    for (const bad of ['%%%', Buffer.from('{"v":1}').toString('base64url'), someCursor.slice(0, -3)]) {
      expect((await failure(cards.listClientCards({ ...listCards, cursor: bad }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    }
    for (const id of ['', 'nope', "' OR 1=1 --"]) expect((await failure(cards.getClientCard({ id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(cards.listClientCards({ ...listCards, pageSize: -1 }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
  });
});
