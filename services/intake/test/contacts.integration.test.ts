/**
 * intake with contacts (issue 18) on the real engines: contacts runs as its own process (harness), so
 * the tests can stop it, freeze it and start it again. Every request with a phone or an e-mail is
 * matched to a contact before it is stored; primary/repeat follows the contact; contacts down or hung
 * never loses a request (created without a contact, linked later by the backfill); contacts' merges and
 * their undos move the links.
 */
import { ContactMergeUndone, ContactMerged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { ContactsServiceService, Verification } from '@crm/contracts/crm/contacts/v1/contacts';
import { RequestContactLinked, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import type { CreateRequestRequest, ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import { Channel, ContactAxis, NumberAxis, type Request } from '@crm/contracts/crm/intake/v1/request';
import { uuidv7 } from '@crm/db';
import { createClient, status } from '@crm/grpc';
import { decodeData, decodeEvent, encodeEvent, type CloudEvent } from '@crm/kafka';
import { eventually, runId } from '@crm/testing';
import type { KafkaMessage } from 'kafkajs';
import { Pool } from 'pg';
import { collect, grpcError, NO_LIST_FILTERS, NO_ROUTING_FIELDS, startHarness, tenant, TEST_CONTACTS_TIMEOUT_MS, type Harness } from './harness';

let h: Harness;
const A = tenant('tenant-a', 'user-a');
const B = tenant('tenant-b', 'user-b');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const noAttribution = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' };

function form(over: Partial<CreateRequestRequest> = {}): CreateRequestRequest {
  return { channel: Channel.CHANNEL_WEB_FORM, name: '', phone: '', email: '', message: '', attribution: noAttribution, idempotencyKey: '', publicFormId: '', defaultCountry: '', extraFields: [], ...NO_ROUTING_FIELDS, ...over };
}

const list = (over: Partial<ListRequestsRequest>, t = A) =>
  h.client.listRequests({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 100, cursor: '', contactId: '', ...NO_LIST_FILTERS, ...over }, t);

let watcher: Promise<Awaited<ReturnType<typeof collect>>>;
let contactsDb: Pool;

beforeAll(async () => {
  h = await startHarness({ backfillIntervalMs: 200 });
  contactsDb = new Pool({ connectionString: h.contacts.dbUrl, max: 1 });
  watcher = collect(h.kafka, h.topic('crm.intake.request.v1'), `intake-contacts-watch-${runId}`);
  watcher.catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await (await watcher.catch(() => undefined))?.stop();
  await contactsDb?.end();
  await h?.stop();
});

/** The events of one request on crm.intake.request.v1, decoded, in the order published. */
async function eventsOf(requestId: string): Promise<{ e: CloudEvent; m: KafkaMessage }[]> {
  const { messages } = await watcher;
  return messages.filter((m) => m.headers?.ce_subject?.toString() === requestId).map((m) => ({ m, e: decodeEvent(m) }));
}

async function linkedEvents(requestId: string): Promise<RequestContactLinked[]> {
  return (await eventsOf(requestId)).filter(({ e }) => e.type === 'crm.intake.request.contact_linked.v1').map(({ e }) => decodeData(e, RequestContactLinked));
}

async function contactOf(requestId: string, t = A): Promise<string> {
  return (await h.client.getRequest({ id: requestId }, t)).request!.contactId;
}

describe('a request is matched to a contact', () => {
  it('gets a contact id; the same phone written differently is the same contact and a repeat; ListRequests filters by contact', async () => {
    const first = (await h.client.createRequest(form({ name: 'Анна Смирнова', phone: '+7 916 000 11 22' }), A)).request!;
    expect(first.contactId).toMatch(UUID);
    expect(first.axes).toMatchObject({ number: NumberAxis.NUMBER_AXIS_PRIMARY, contact: ContactAxis.CONTACT_AXIS_UNVERIFIED });

    const again = (await h.client.createRequest(form({ phone: '8 (916) 000-11-22', channel: Channel.CHANNEL_PHONE }), A)).request!;
    expect(again.contactId).toBe(first.contactId);
    expect(again.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);

    // Another person (an e-mail nobody had): another contact, primary.
    const other = (await h.client.createRequest(form({ email: 'Boris@Example.com' }), A)).request!;
    expect(other.contactId).toMatch(UUID);
    expect(other.contactId).not.toBe(first.contactId);
    expect(other.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
    // A new phone with Boris's e-mail in another case: Boris again, a repeat although the phone is new.
    const boris = (await h.client.createRequest(form({ phone: '+7 903 555 00 00', email: 'BORIS@example.COM' }), A)).request!;
    expect(boris.contactId).toBe(other.contactId);
    expect(boris.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);

    // Requests without a phone or an e-mail have no contact.
    const chat = (await h.client.createRequest(form({ channel: Channel.CHANNEL_CHAT, message: 'hi' }), A)).request!;
    expect(chat.contactId).toBe('');

    expect((await list({ contactId: first.contactId })).requests.map((r) => r.id)).toEqual([again.id, first.id]);
    expect((await list({ contactId: other.contactId.toUpperCase() })).requests.map((r) => r.id)).toEqual([boris.id, other.id]);
    expect((await h.client.getRequest({ id: first.id }, A)).request).toEqual(first);

    // contacts stored the points with this request as their provenance, and the name.
    const points = await contactsDb.query('SELECT type, value, provenance_kind, provenance_ref FROM contact_points WHERE contact_id = $1 ORDER BY type', [first.contactId]);
    expect(points.rows).toEqual([{ type: 'phone', value: '+79160001122', provenance_kind: 'request', provenance_ref: first.id }]);
    expect((await contactsDb.query('SELECT name FROM contacts WHERE id = $1', [first.contactId])).rows).toEqual([{ name: 'Анна Смирнова' }]);

    // The created event carries the contact.
    await eventually(() => eventsOf(first.id), { until: (e) => e.length >= 1, message: 'created event on Kafka' });
    const [created] = await eventsOf(first.id);
    expect(decodeData(created.e, RequestCreated).request!.contactId).toBe(first.contactId);
  });

  it('ListRequests contact_id: another tenant sees nothing, a malformed id is INVALID_ARGUMENT', async () => {
    const mine = (await h.client.createRequest(form({ phone: '+7 916 000 33 44' }), A)).request!;
    expect((await list({ contactId: mine.contactId }, B)).requests).toEqual([]);
    const err = await grpcError(list({ contactId: 'not-a-uuid' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.violations).toEqual([{ field: 'contact_id', message: 'must be a UUID' }]);
  });

  it("tenant B's request with A's phone is B's own contact, primary", async () => {
    const a = (await h.client.createRequest(form({ phone: '+7 999 777 66 55' }), A)).request!;
    const b = (await h.client.createRequest(form({ phone: '8 999 777-66-55' }), B)).request!;
    expect(b.contactId).toMatch(UUID);
    expect(b.contactId).not.toBe(a.contactId);
    expect(b.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
  });

  it('the contact axis is verified when the matched point is verified on the contact', async () => {
    const first = (await h.client.createRequest(form({ phone: '+7 916 111 22 33' }), A)).request!;
    const contacts = createClient(ContactsServiceService, { address: h.contacts.addr });
    try {
      const contact = (await contacts.getContact({ id: first.contactId }, { tenantId: 'tenant-a', callerId: 'user-a', callerKind: 'user' })).contact!;
      const phone = contact.points.find((p) => p.value === '+79161112233')!;
      await contacts.setPointVerification({ contactId: contact.id, pointId: phone.id, verification: Verification.VERIFICATION_VERIFIED }, { tenantId: 'tenant-a', callerId: 'user-a', callerKind: 'user' });
    } finally {
      contacts.close();
    }
    const next = (await h.client.createRequest(form({ phone: '89161112233', channel: Channel.CHANNEL_PHONE }), A)).request!;
    expect(next.contactId).toBe(first.contactId);
    expect(next.axes).toMatchObject({ number: NumberAxis.NUMBER_AXIS_REPEAT, contact: ContactAxis.CONTACT_AXIS_VERIFIED });
  });

  it('concurrent first requests of one person (the phone written four ways): one contact, exactly one primary', async () => {
    const t = tenant('tenant-race');
    const spellings = ['+7 926 111 22 33', '8 (926) 111-22-33', '+79261112233', '89261112233'];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => h.client.createRequest(form({ phone: spellings[i % 4], message: `race ${i}` }), t)));
    expect(new Set(results.map((r) => r.request!.contactId)).size).toBe(1);
    expect(results.filter((r) => r.request!.axes!.number === NumberAxis.NUMBER_AXIS_PRIMARY)).toHaveLength(1);
  });
});

describe('contacts unreachable', () => {
  it('down: the request is still created (no contact, classified by its points), a replay keeps its contact, and the backfill links it when contacts is back', async () => {
    const t = tenant('tenant-down');
    const known = (await h.client.createRequest(form({ phone: '+7 915 000 00 01', idempotencyKey: `down-${runId}` }), t)).request!;
    expect(known.contactId).toMatch(UUID);

    await h.contacts.stop();
    let repeat: Request;
    let fresh: Request;
    try {
      const started = Date.now();
      repeat = (await h.client.createRequest(form({ phone: '8 915 000-00-01', message: 'while contacts is down' }), t)).request!;
      fresh = (await h.client.createRequest(form({ email: 'nobody-yet@example.com' }), t)).request!;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(repeat.contactId).toBe('');
      expect(fresh.contactId).toBe('');
      // The old rule: the same phone as an earlier request is a repeat; a new e-mail is primary.
      expect(repeat.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);
      expect(fresh.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
      // A replay needs no contacts: it is the first request, contact included.
      const replay = await h.client.createRequest(form({ phone: '+79150000001', idempotencyKey: `down-${runId}` }), t);
      expect(replay).toEqual({ request: known, replayed: true });

      // Still down after a few backfill rounds: nothing linked, nothing lost.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await contactOf(repeat.id, t)).toBe('');
    } finally {
      await h.contacts.start();
    }

    const linked = await eventually(() => h.client.getRequest({ id: repeat.id }, t), { until: (r) => r.request!.contactId !== '', timeoutMs: 45_000, message: 'the backfill linked the request' });
    expect(linked.request!.contactId).toBe(known.contactId);
    await eventually(() => contactOf(fresh.id, t), { until: (c) => c !== '', timeoutMs: 45_000, message: 'the backfill linked the second request' });

    await eventually(() => linkedEvents(repeat.id), { until: (e) => e.length >= 1, message: 'contact_linked on Kafka' });
    const events = await eventsOf(repeat.id);
    expect(events.map(({ e }) => e.type)).toEqual(['crm.intake.request.created.v1', 'crm.intake.request.contact_linked.v1']);
    expect(events[1].e).toMatchObject({ source: 'crm/intake', subject: repeat.id, tenantId: 'tenant-down' });
    expect(await linkedEvents(repeat.id)).toEqual([{ requestId: repeat.id, previousContactId: '', contactId: known.contactId, cause: 'backfill', channel: Channel.CHANNEL_WEB_FORM, message: 'while contacts is down' }]);
    // Linked once: the journal of the contact has both of its requests.
    expect((await list({ contactId: known.contactId }, t)).requests.map((r) => r.id)).toEqual([repeat.id, known.id]);
  }, 120_000);

  it('hung (SIGSTOP): the create answers within the deadline without a contact, and is linked once contacts answers again', async () => {
    const t = tenant('tenant-hung');
    h.contacts.freeze();
    let request: Request;
    try {
      const started = Date.now();
      request = (await h.client.createRequest(form({ phone: '+7 915 000 00 02' }), t)).request!;
      // INTAKE_CONTACTS_TIMEOUT_MS and the time to write the request, not the client's 15 s.
      expect(Date.now() - started).toBeLessThan(TEST_CONTACTS_TIMEOUT_MS + 3000);
      expect(request.contactId).toBe('');
      expect(request.axes!.number).toBe(NumberAxis.NUMBER_AXIS_PRIMARY);
    } finally {
      h.contacts.thaw();
    }
    const contactId = await eventually(() => contactOf(request.id, t), { until: (c) => c !== '', timeoutMs: 45_000, message: 'the backfill linked the request' });
    expect(contactId).toMatch(UUID);
    // The next request of the person finds the same contact and is a repeat.
    const next = (await h.client.createRequest(form({ phone: '89150000002' }), t)).request!;
    expect(next.contactId).toBe(contactId);
    expect(next.axes!.number).toBe(NumberAxis.NUMBER_AXIS_REPEAT);
  }, 120_000);

  it('requests stored before intake knew contacts (contact_id NULL) are linked by the backfill, oldest first, one contact per person', async () => {
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    const rows: [string, string | null, string | null, string][] = [
      [ids[0], '+79150000003', null, '2025-01-01T10:00:00Z'],
      [ids[1], '+79150000003', 'legacy@example.com', '2025-01-02T10:00:00Z'],
      [ids[2], null, 'legacy@example.com', '2025-01-03T10:00:00Z'],
    ];
    for (const [id, phone, email, at] of rows) {
      await h.pool.query(
        `INSERT INTO requests (id, tenant_id, state, number_axis, meaning_axis, contact_axis, qualification_axis, channel, phone, email, fingerprint, created_at)
         VALUES ($1, 'tenant-legacy', 'new', 'primary', 'unknown', 'unverified', 'pending', 'web_form', $2, $3, 'legacy', $4)`,
        [id, phone, email, at],
      );
    }
    const t = tenant('tenant-legacy');
    const linked = await eventually(() => Promise.all(ids.map((id) => contactOf(id, t))), { until: (c) => c.every((x) => x !== ''), timeoutMs: 30_000, message: 'legacy requests linked' });
    expect(new Set(linked).size).toBe(1);
    for (const id of ids) {
      await eventually(() => linkedEvents(id), { until: (e) => e.length === 1, message: 'contact_linked of a legacy request' });
      expect(await linkedEvents(id)).toEqual([{ requestId: id, previousContactId: '', contactId: linked[0], cause: 'backfill', channel: Channel.CHANNEL_WEB_FORM, message: '' }]);
    }
    // Nothing is left in the backfill's queue of this tenant.
    expect((await h.pool.query(`SELECT count(*)::int AS n FROM requests WHERE tenant_id = 'tenant-legacy' AND contact_id IS NULL`)).rows[0].n).toBe(0);
  }, 60_000);
});

describe("contacts' merges", () => {
  /** Publishes an event on contacts' topic as contacts would (the relay's CloudEvents envelope). */
  async function publish(type: string, data: Uint8Array, tenantId: string, subject: string, id = uuidv7()): Promise<string> {
    const producer = h.kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: h.topic('crm.contacts.contact.v1'),
        messages: [encodeEvent({ id, source: 'crm/contacts', type, subject, tenantId, time: new Date().toISOString(), contentType: 'application/protobuf', data: Buffer.from(data) })],
      });
    } finally {
      await producer.disconnect();
    }
    return id;
  }

  const merge = (survivorId: string, loserId: string) => ({
    id: uuidv7(),
    survivorId,
    loserId,
    mergedBy: 'user-a',
    createdAt: new Date().toISOString(),
    undoneAt: '',
    undoneBy: '',
    pointsMoved: 1,
    cardsMoved: 1,
    requestsMoved: 2,
    timelineEntriesMoved: 0,
  });

  /**
   * Proves the events published before it on a key were applied: a merge of two fresh contacts of the
   * tenant, published with the same subject (so the same partition, after them), has moved its request.
   */
  async function barrier(t: ReturnType<typeof tenant>, subject: string): Promise<void> {
    const x = (await h.client.createRequest(form({ email: `barrier-x-${uuidv7()}@example.com` }), t)).request!;
    const y = (await h.client.createRequest(form({ email: `barrier-y-${uuidv7()}@example.com` }), t)).request!;
    await publish('crm.contacts.contact.merged.v1', ContactMerged.encode({ merge: merge(y.contactId, x.contactId), requestIds: [x.id] }).finish(), t.tenantId, subject);
    await eventually(() => contactOf(x.id, t), { until: (c) => c === y.contactId, message: 'the barrier merge applied' });
  }

  it('merged moves the listed requests of the loser to the survivor; merge_undone moves them back; replays and other tenants change nothing', async () => {
    const loserReq1 = (await h.client.createRequest(form({ phone: '+7 917 000 00 01' }), A)).request!;
    const loserReq2 = (await h.client.createRequest(form({ phone: '+7 917 000 00 01', channel: Channel.CHANNEL_PHONE }), A)).request!;
    const survivorReq = (await h.client.createRequest(form({ email: 'merge-survivor@example.com' }), A)).request!;
    const bystander = (await h.client.createRequest(form({ email: 'bystander@example.com' }), A)).request!;
    const loser = loserReq1.contactId;
    const survivor = survivorReq.contactId;
    expect(loserReq2.contactId).toBe(loser);
    expect(new Set([loser, survivor, bystander.contactId]).size).toBe(3);
    const m = merge(survivor, loser);
    const requestIds = [loserReq1.id, loserReq2.id, bystander.id];

    // Tenant B's event naming A's requests and contacts moves nothing of A.
    await publish('crm.contacts.contact.merged.v1', ContactMerged.encode({ merge: m, requestIds }).finish(), 'tenant-b', survivor);
    await barrier(B, survivor);
    expect(await Promise.all(requestIds.map((id) => contactOf(id)))).toEqual([loser, loser, bystander.contactId]);

    const ceId = await publish('crm.contacts.contact.merged.v1', ContactMerged.encode({ merge: m, requestIds }).finish(), 'tenant-a', survivor);
    await eventually(() => Promise.all([contactOf(loserReq1.id), contactOf(loserReq2.id)]), { until: (c) => c.every((x) => x === survivor), message: 'requests moved to the survivor' });
    // Only requests still linked to the loser move: the bystander keeps its contact.
    expect(await contactOf(bystander.id)).toBe(bystander.contactId);
    expect((await list({ contactId: survivor })).requests.map((r) => r.id)).toEqual([survivorReq.id, loserReq2.id, loserReq1.id]);
    expect((await list({ contactId: loser })).requests).toEqual([]);
    await eventually(() => linkedEvents(loserReq1.id), { until: (e) => e.length >= 1, message: 'contact_linked (merge)' });
    expect(await linkedEvents(loserReq1.id)).toEqual([{ requestId: loserReq1.id, previousContactId: loser, contactId: survivor, cause: 'merge', channel: Channel.CHANNEL_WEB_FORM, message: '' }]);
    expect(await linkedEvents(bystander.id)).toEqual([]);

    const undone = { ...m, undoneAt: new Date().toISOString(), undoneBy: 'user-a' };
    await publish('crm.contacts.contact.merge_undone.v1', ContactMergeUndone.encode({ merge: undone, requestIds: [loserReq1.id, loserReq2.id] }).finish(), 'tenant-a', survivor);
    await eventually(() => Promise.all([contactOf(loserReq1.id), contactOf(loserReq2.id)]), { until: (c) => c.every((x) => x === loser), message: 'requests back on the loser' });
    expect(await contactOf(survivorReq.id)).toBe(survivor);
    expect(await contactOf(bystander.id)).toBe(bystander.contactId);

    // The merged event delivered again (same ce_id, after the undo) is not applied a second time.
    await publish('crm.contacts.contact.merged.v1', ContactMerged.encode({ merge: m, requestIds }).finish(), 'tenant-a', survivor, ceId);
    await barrier(A, survivor);
    expect(await Promise.all([contactOf(loserReq1.id), contactOf(loserReq2.id)])).toEqual([loser, loser]);

    await eventually(() => linkedEvents(loserReq2.id), { until: (e) => e.length >= 2, message: 'contact_linked (merge_undone)' });
    expect(await linkedEvents(loserReq2.id)).toEqual([
      { requestId: loserReq2.id, previousContactId: loser, contactId: survivor, cause: 'merge', channel: Channel.CHANNEL_PHONE, message: '' },
      { requestId: loserReq2.id, previousContactId: survivor, contactId: loser, cause: 'merge_undone', channel: Channel.CHANNEL_PHONE, message: '' },
    ]);
  }, 90_000);
});

describe('end to end with contacts', () => {
  it("MergeContacts in contacts moves the loser's requests in intake; UndoMerge moves them back", async () => {
    const ctx = { tenantId: 'tenant-e2e', callerId: 'user-e2e', callerKind: 'user' as const };
    const t = tenant('tenant-e2e', 'user-e2e');
    const loserReqs = [
      (await h.client.createRequest(form({ name: 'Пётр', phone: '+7 918 000 00 01' }), t)).request!,
      (await h.client.createRequest(form({ phone: '8 918 000-00-01', channel: Channel.CHANNEL_PHONE }), t)).request!,
    ];
    const survivorReq = (await h.client.createRequest(form({ name: 'Пётр', email: 'petr-e2e@example.com' }), t)).request!;
    const loser = loserReqs[0].contactId;
    const survivor = survivorReq.contactId;
    expect(loserReqs[1].contactId).toBe(loser);
    expect(survivor).not.toBe(loser);

    const contacts = createClient(ContactsServiceService, { address: h.contacts.addr, defaultDeadlineMs: 10_000 });
    try {
      // contacts learns the requests from intake's created events (its request links).
      await eventually(() => contacts.getContact({ id: loser }, ctx), { until: (r) => r.contact!.requestCount === 2, timeoutMs: 30_000, message: "contacts linked the loser's two requests" });
      const { merge } = await contacts.mergeContacts({ survivorId: survivor, loserId: loser }, ctx);
      await eventually(() => Promise.all(loserReqs.map((r) => contactOf(r.id, t))), { until: (c) => c.every((x) => x === survivor), timeoutMs: 30_000, message: 'intake followed the merge' });
      expect((await list({ contactId: survivor }, t)).requests.map((r) => r.id).sort()).toEqual([...loserReqs.map((r) => r.id), survivorReq.id].sort());

      await contacts.undoMerge({ mergeId: merge!.id }, ctx);
      await eventually(() => Promise.all(loserReqs.map((r) => contactOf(r.id, t))), { until: (c) => c.every((x) => x === loser), timeoutMs: 30_000, message: 'intake followed the undo' });
      expect(await contactOf(survivorReq.id, t)).toBe(survivor);
      await eventually(() => linkedEvents(loserReqs[0].id), { until: (e) => e.length >= 2, message: 'contact_linked of the merge and of the undo' });
      expect((await linkedEvents(loserReqs[0].id)).map((e) => e.cause)).toEqual(['merge', 'merge_undone']);
    } finally {
      contacts.close();
    }
  }, 120_000);
});
