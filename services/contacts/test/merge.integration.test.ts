/**
 * Merge and undo against the real engines over real gRPC: everything that belongs to a contact (points,
 * client cards, request links, deal links, timeline entries, company memberships, the pair's duplicate)
 * moves to the survivor and comes back exactly on undo. Request links and timeline entries are seeded in
 * SQL (the consumers fill them in real life). Two tenants: nothing of one can be merged from the other.
 */
import { ContactMerged, ContactMergeUndone } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { ContactsServiceService, PointType, ProvenanceKind, type PointInput } from '@crm/contracts/crm/contacts/v1/contacts';
import { uuidv7 } from '@crm/db';
import { createClient, fromServiceError, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { collect, eventually, header, runId, uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { CONTACT_MERGE_UNDONE, CONTACT_MERGED, CONTACT_TOPIC } from '../src/events';
import { startTestContacts, stopTestContacts } from './harness';

type Client = PromiseClient<typeof ContactsServiceService>;

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'merger-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'merger-b', callerKind: 'user' };
const suffix = `.${uniqueName('merge')}`;

let db: TestDatabase;
let kafka: Kafka;
let svc: RunningService;
let client: Client;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('contacts_merge', suffix));
  client = createClient(ContactsServiceService, { address: `127.0.0.1:${svc.grpc.port}` });
}, 60_000);

afterAll(async () => {
  client?.close();
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

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.getConnection().execute<T[]>(text, params);
}

const phone = (value: string): PointInput => ({ type: PointType.POINT_TYPE_PHONE, value, network: '', verified: false });
const email = (value: string): PointInput => ({ type: PointType.POINT_TYPE_EMAIL, value, network: '', verified: false });
const create = async (t: TenantContext, name: string, points: PointInput[]) => (await client.createContact({ name, points, companyId: '', idempotencyKey: '', defaultCountry: '' }, t)).contact!;

let seq = Math.floor(Math.random() * 9_000_000);
const freshPhone = () => `+7916${String((seq += 1)).padStart(7, '0')}`;

/**
 * Everything of one contact, as rows. The timeline without the entries the service's own consumer adds for
 * the merge events themselves (they arrive asynchronously on the survivor).
 */
async function everything(contactId: string) {
  const contact = await sql(`SELECT id, tenant_id, name, search_name, company_id, merged_into_id, provenance_kind, provenance_ref, created_at FROM contacts WHERE id = ?`, [contactId]);
  return {
    contact,
    points: await sql('SELECT * FROM contact_points WHERE contact_id = ? ORDER BY id', [contactId]),
    cards: await sql('SELECT id, tenant_id, contact_id, state, kind, owner_id, version, created_at FROM client_cards WHERE contact_id = ? ORDER BY id', [contactId]),
    requests: await sql('SELECT * FROM request_links WHERE contact_id = ? ORDER BY request_id', [contactId]),
    deals: await sql('SELECT deal_id, contact_ids::text[] AS contact_ids FROM deal_links WHERE contact_ids @> ARRAY[?]::uuid[] ORDER BY deal_id', [contactId]),
    timeline: await sql(`SELECT * FROM timeline_entries WHERE contact_id = ? AND kind NOT IN ('contact_merged', 'contact_merge_undone') ORDER BY id`, [contactId]),
    companies: await sql('SELECT * FROM company_contacts WHERE contact_id = ? ORDER BY company_id', [contactId]),
  };
}

/** Waits until the service's consumer has put its `contact_created` entry on each contact (so that nothing changes under a snapshot). */
async function settled(...ids: string[]): Promise<void> {
  await eventually(() => sql<{ n: number }>(`SELECT count(DISTINCT contact_id)::int AS n FROM timeline_entries WHERE kind = 'contact_created' AND contact_id IN (?)`, [ids]), {
    until: (r) => r[0].n === ids.length,
    timeoutMs: 30_000,
  });
}

/** Seeds what the consumers would have written for a contact: requests, their timeline entries, a deal. */
async function seed(tenantId: string, contactId: string, companyId: string, n: number): Promise<string[]> {
  const now = new Date();
  const requests: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const requestId = uuidv7();
    requests.push(requestId);
    await sql('INSERT INTO request_links (request_id, tenant_id, contact_id, channel, qualification, created_at) VALUES (?, ?, ?, ?, NULL, ?)', [requestId, tenantId, contactId, 'web_form', now]);
    await sql(
      `INSERT INTO timeline_entries (id, tenant_id, contact_id, client_card_id, occurred_at, kind, ref_type, ref_id, summary, event_type, source_event_id)
       VALUES (?, ?, ?, NULL, ?, 'request_created', 'request', ?, 'web_form: hello', 'crm.intake.request.created.v1', ?)`,
      [uuidv7(), tenantId, contactId, now, requestId, `seed:${requestId}`],
    );
  }
  await sql(`INSERT INTO deal_links (deal_id, tenant_id, client_card_id, contact_ids, status, title, amount_minor, currency, updated_at) VALUES (?, ?, NULL, ?::uuid[], 'open', 'deal', 100, 'RUB', ?)`, [
    uuidv7(),
    tenantId,
    `{${contactId}}`,
    now,
  ]);
  await sql('INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at) VALUES (?, ?, ?, ?, ?)', [tenantId, companyId, contactId, 'buyer', now]);
  return requests;
}

async function company(tenantId: string, name: string): Promise<string> {
  const id = uuidv7();
  const now = new Date();
  await sql('INSERT INTO companies (id, tenant_id, name, search_name, addresses, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?::jsonb, 1, ?, ?)', [id, tenantId, name, name.toLowerCase(), '[]', now, now]);
  return id;
}

describe('merge and undo', () => {
  it('moves everything of the loser to the survivor and undo restores both exactly', async () => {
    const watcher = await collect(kafka, `${CONTACT_TOPIC}${suffix}`, `merge-watch-${runId}`);
    try {
      const survivor = await create(tenantA, 'Выживший', [phone(freshPhone())]);
      const loser = await create(tenantA, 'Проигравший', [phone(freshPhone()), email(`${uniqueName('loser')}@example.com`)]);
      const shared = await company(tenantA.tenantId, 'Общая');
      const own = await company(tenantA.tenantId, 'Своя');
      await seed(tenantA.tenantId, survivor.id, shared, 1);
      const loserRequests = await seed(tenantA.tenantId, loser.id, shared, 3);
      await sql('INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at) VALUES (?, ?, ?, ?, ?)', [tenantA.tenantId, own, loser.id, 'owner', new Date()]);
      // A shared deal of both, and their duplicate pair.
      await sql(`INSERT INTO deal_links (deal_id, tenant_id, client_card_id, contact_ids, status, updated_at) VALUES (?, ?, NULL, ?::uuid[], 'won', ?)`, [uuidv7(), tenantA.tenantId, `{${loser.id},${survivor.id}}`, new Date()]);
      const [first, second] = [survivor.id, loser.id].sort();
      const dupId = uuidv7();
      await sql(`INSERT INTO duplicates (id, tenant_id, first_id, second_id, reason, status, created_at) VALUES (?, ?, ?, ?, 'shared_point', 'open', ?)`, [dupId, tenantA.tenantId, first, second, new Date()]);

      await settled(survivor.id, loser.id);
      const before = { survivor: await everything(survivor.id), loser: await everything(loser.id) };
      const { merge, survivor: merged } = await client.mergeContacts({ survivorId: survivor.id, loserId: loser.id }, tenantA);
      expect(merge).toMatchObject({ survivorId: survivor.id, loserId: loser.id, mergedBy: 'merger-a', undoneAt: '', pointsMoved: 2, cardsMoved: 1, requestsMoved: 3, timelineEntriesMoved: before.loser.timeline.length });
      expect(before.loser.timeline).toHaveLength(4); // three seeded, and contact_created
      expect(merged!.points).toHaveLength(3);
      expect(merged!.requestCount).toBe(4);

      const after = { survivor: await everything(survivor.id), loser: await everything(loser.id) };
      expect(after.loser.contact[0].merged_into_id).toBe(survivor.id);
      for (const k of ['points', 'cards', 'requests', 'deals', 'timeline', 'companies'] as const) expect(after.loser[k]).toEqual([]);
      expect(after.survivor.cards).toHaveLength(2);
      expect(after.survivor.companies.map((c) => c.company_id).sort()).toEqual([shared, own].sort());
      expect(after.survivor.deals.map((d) => (d.contact_ids as string[]).length)).toEqual([1, 1, 1]);
      expect((await sql('SELECT status FROM duplicates WHERE id = ?', [dupId]))[0].status).toBe('merged');
      // The merged contact is out of lists and matches, its id still resolves.
      expect((await client.listContacts({ query: 'Проигравший', companyId: '', pageSize: 0, cursor: '' }, tenantA)).contacts).toEqual([]);
      expect((await client.getContact({ id: loser.id }, tenantA)).contact!.mergedIntoId).toBe(survivor.id);
      const matched = await client.matchOrCreate({ name: '', points: [phone(loser.points.find((p) => p.type === PointType.POINT_TYPE_PHONE)!.value)], provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: 'x' }, defaultCountry: '' }, tenantA);
      expect(matched.contact!.id).toBe(survivor.id);

      // A comment on one of the loser's requests arrives after the merge: the consumer puts it on the survivor.
      const lateId = uuidv7();
      await sql(
        `INSERT INTO timeline_entries (id, tenant_id, contact_id, client_card_id, occurred_at, kind, ref_type, ref_id, summary, event_type, source_event_id)
         VALUES (?, ?, ?, NULL, ?, 'request_commented', 'request', ?, 'later', 'crm.intake.request.commented.v1', ?)`,
        [lateId, tenantA.tenantId, survivor.id, new Date(), loserRequests[0], `seed:late:${lateId}`],
      );

      expect((await client.listMerges({ contactId: loser.id }, tenantA)).merges.map((m) => m.id)).toEqual([merge!.id]);
      const undone = await client.undoMerge({ mergeId: merge!.id }, tenantA);
      expect(undone.merge).toMatchObject({ id: merge!.id, undoneBy: 'merger-a' });
      expect(undone.merge!.undoneAt).not.toBe('');
      expect(undone.loser!.mergedIntoId).toBe('');

      const restored = { survivor: await everything(survivor.id), loser: await everything(loser.id) };
      const lateRow = restored.loser.timeline.find((e) => e.id === lateId);
      expect(lateRow).toBeDefined();
      restored.loser.timeline = restored.loser.timeline.filter((e) => e.id !== lateId);
      const strip = (x: typeof before) => ({ ...x, survivor: { ...x.survivor, cards: x.survivor.cards.map(({ version: _v, ...c }) => c) }, loser: { ...x.loser, cards: x.loser.cards.map(({ version: _v, ...c }) => c) } });
      expect(strip(restored)).toEqual(strip(before));
      expect((await sql('SELECT status FROM duplicates WHERE id = ?', [dupId]))[0].status).toBe('open');
      expect(undone.survivor!.points).toEqual(survivor.points);
      expect(undone.loser!.points).toEqual(loser.points);
      expect(undone.survivor!.version).toBeGreaterThan(survivor.version);

      // Events: merged and undone, keyed by the survivor, with the moved request ids.
      const mergedMsg = await eventually(() => watcher.messages.find((m) => header(m, 'ce_type') === CONTACT_MERGED && header(m, 'ce_subject') === survivor.id), { until: Boolean, timeoutMs: 30_000 });
      expect(ContactMerged.decode(mergedMsg!.value!).requestIds.sort()).toEqual([...loserRequests].sort());
      expect(mergedMsg!.key?.toString()).toBe(`${tenantA.tenantId}:${survivor.id}`);
      const undoneMsg = await eventually(() => watcher.messages.find((m) => header(m, 'ce_type') === CONTACT_MERGE_UNDONE && header(m, 'ce_subject') === survivor.id), { until: Boolean, timeoutMs: 30_000 });
      expect(ContactMergeUndone.decode(undoneMsg!.value!).merge!.id).toBe(merge!.id);

      // The timeline through the RPC: the loser's own entries again, newest first; nothing for the other tenant.
      const { entries } = await client.getTimeline({ contactId: loser.id, clientCardId: '', pageSize: 100, cursor: '' }, tenantA);
      expect(entries.map((e) => e.id).sort()).toEqual(restored.loser.timeline.map((e) => e.id as string).concat(lateId).sort());
      expect((await failure(client.getTimeline({ contactId: loser.id, clientCardId: '', pageSize: 0, cursor: '' }, tenantB))).code).toBe(status.NOT_FOUND);

      // Undo twice: refused.
      const twice = await failure(client.undoMerge({ mergeId: merge!.id }, tenantA));
      expect(twice.code).toBe(status.FAILED_PRECONDITION);
      expect(fromServiceError(twice).details.reason).toBe('merge_undone');
    } finally {
      await watcher.stop();
    }
  }, 60_000);

  it('refuses a self-merge, a merged contact, another tenant, a superseded undo; nothing half-written', async () => {
    const a = await create(tenantA, 'А', [phone(freshPhone())]);
    const b = await create(tenantA, 'Б', [phone(freshPhone())]);
    const c = await create(tenantA, 'В', [phone(freshPhone())]);
    const foreign = await create(tenantB, 'Чужой', [phone(freshPhone())]);
    await settled(a.id, b.id, c.id);
    const snapshot = async () => ({ a: await everything(a.id), b: await everything(b.id), c: await everything(c.id), merges: await sql('SELECT count(*)::int AS n FROM merges') });

    const before = await snapshot();
    const self = await failure(client.mergeContacts({ survivorId: a.id, loserId: a.id }, tenantA));
    expect(self.code).toBe(status.INVALID_ARGUMENT);
    expect(fromServiceError(self).details.reason).toBe('merge_self');
    expect((await failure(client.mergeContacts({ survivorId: a.id, loserId: foreign.id }, tenantA))).code).toBe(status.NOT_FOUND);
    expect((await failure(client.mergeContacts({ survivorId: foreign.id, loserId: a.id }, tenantA))).code).toBe(status.NOT_FOUND);
    expect((await failure(client.mergeContacts({ survivorId: a.id, loserId: b.id }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(client.mergeContacts({ survivorId: 'nope', loserId: b.id }, tenantA))).code).toBe(status.INVALID_ARGUMENT);
    expect(await snapshot()).toEqual(before);

    const { merge: first } = await client.mergeContacts({ survivorId: a.id, loserId: b.id }, tenantA);
    expect((await failure(client.undoMerge({ mergeId: first!.id }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(client.listMerges({ contactId: a.id }, tenantB))).code).toBe(status.NOT_FOUND);
    const again = await failure(client.mergeContacts({ survivorId: c.id, loserId: b.id }, tenantA));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(fromServiceError(again).details).toMatchObject({ reason: 'contact_merged', merged_into_id: a.id });
    expect((await failure(client.updateContact({ id: b.id, name: 'x', expectedVersion: 0 }, tenantA))).code).toBe(status.FAILED_PRECONDITION);

    // A later merge involving the survivor blocks the undo of the first until it is undone itself.
    const { merge: second } = await client.mergeContacts({ survivorId: c.id, loserId: a.id }, tenantA);
    const blocked = await failure(client.undoMerge({ mergeId: first!.id }, tenantA));
    expect(blocked.code).toBe(status.FAILED_PRECONDITION);
    expect(fromServiceError(blocked).details).toMatchObject({ reason: 'merge_superseded', later_merge_id: second!.id });
    expect((await client.listMerges({ contactId: a.id }, tenantA)).merges.map((m) => m.id)).toEqual([second!.id, first!.id]);
    await client.undoMerge({ mergeId: second!.id }, tenantA);
    await client.undoMerge({ mergeId: first!.id }, tenantA);
    const end = await snapshot();
    const noVersion = (s: typeof before) => JSON.parse(JSON.stringify(s, (k, v) => (k === 'version' ? undefined : v)));
    expect(noVersion({ ...end, merges: [] })).toEqual(noVersion({ ...before, merges: [] }));
  }, 60_000);
});
