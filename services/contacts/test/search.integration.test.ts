/**
 * ListContacts search against the real engines: the contacts.search_points column (e-mail and social point
 * values, kept by triggers on contact_points) follows every way a point arrives, leaves or moves — create,
 * match-or-create, add / remove, merge and its undo, a bulk insert like the import batch's — and a query
 * finds exactly what the points say; fewer than 4 digits are searched as text, not in phones. Two tenants.
 */
import { ContactsServiceService, PointType, ProvenanceKind, type PointInput } from '@crm/contracts/crm/contacts/v1/contacts';
import { createClient, type PromiseClient, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { uniqueName, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { startTestContacts, stopTestContacts } from './harness';

type Client = PromiseClient<typeof ContactsServiceService>;

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'user-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'user-b', callerKind: 'user' };
const suffix = `.${uniqueName('csearch')}`;

let db: TestDatabase;
let kafka: Kafka;
let svc: RunningService;
let client: Client;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('contacts_search', suffix));
  client = createClient(ContactsServiceService, { address: `127.0.0.1:${svc.grpc.port}` });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stopTestContacts({ db, kafka, svc }, suffix);
});

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.getConnection().execute<T[]>(text, params);
}

const email = (value: string): PointInput => ({ type: PointType.POINT_TYPE_EMAIL, value, network: '', verified: false });
const phone = (value: string): PointInput => ({ type: PointType.POINT_TYPE_PHONE, value, network: '', verified: false });
const social = (network: string, value: string): PointInput => ({ type: PointType.POINT_TYPE_SOCIAL, value, network, verified: false });
const create = (t: TenantContext, name: string, points: PointInput[]) => client.createContact({ name, points, companyId: '', idempotencyKey: '', defaultCountry: '' }, t);
const ids = async (t: TenantContext, q: string) => (await client.listContacts({ query: q, companyId: '', pageSize: 100, cursor: '' }, t)).contacts.map((c) => c.id);
const searchPoints = async (id: string) => (await sql<{ s: string | null }>('SELECT search_points AS s FROM contacts WHERE id = ?', [id]))[0].s;

let seq = Math.floor(Math.random() * 1_000_000);
const tag = () => `t${(seq += 1)}x${Date.now().toString(36)}`;
/** A fresh Russian mobile number: +7 9xx xxx xx xx. */
const freshPhone = () => `+79${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;

describe('contact search over e-mails and handles (contacts.search_points)', () => {
  it('is set on create and match-or-create, and follows add and remove of a point', async () => {
    const t = tag();
    const { contact } = await create(tenantA, 'Search Points', [email(`Alpha.${t}@Example.com`), social('VK', `@Beta_${t}`), phone(freshPhone())]);
    expect(await searchPoints(contact!.id)).toBe(`alpha.${t}@example.com\nvk:beta_${t}`);
    expect(await ids(tenantA, `alpha.${t}`)).toEqual([contact!.id]);
    expect(await ids(tenantA, `BETA_${t}`)).toEqual([contact!.id]);
    expect(await ids(tenantB, `alpha.${t}`)).toEqual([]);

    const added = await client.addContactPoint({ contactId: contact!.id, point: email(`gamma.${t}@mail.ru`), defaultCountry: '' }, tenantA);
    expect(await ids(tenantA, `gamma.${t}`)).toEqual([contact!.id]);
    const gamma = added.contact!.points.find((p) => p.value.startsWith('gamma'))!;
    await client.removeContactPoint({ contactId: contact!.id, pointId: gamma.id }, tenantA);
    expect(await ids(tenantA, `gamma.${t}`)).toEqual([]);
    expect(await searchPoints(contact!.id)).toBe(`alpha.${t}@example.com\nvk:beta_${t}`);

    const m = await client.matchOrCreate({ name: '', points: [email(`delta.${t}@bk.ru`)], provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: 'r1' }, defaultCountry: '' }, tenantA);
    expect(m.created).toBe(true);
    expect(await ids(tenantA, `delta.${t}`)).toEqual([m.contact!.id]);
    // match-or-create adding a new e-mail to the existing owner of a phone
    const p = freshPhone();
    const owner = await create(tenantA, 'Owner', [phone(p)]);
    expect(await searchPoints(owner.contact!.id)).toBeNull();
    await client.matchOrCreate({ name: '', points: [phone(p), email(`eps.${t}@ya.ru`)], provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: 'r2' }, defaultCountry: '' }, tenantA);
    expect(await ids(tenantA, `eps.${t}`)).toEqual([owner.contact!.id]);
  });

  it('moves with a merge and back with its undo', async () => {
    const t = tag();
    const survivor = (await create(tenantA, 'Survivor', [email(`surv.${t}@example.com`)])).contact!;
    const loser = (await create(tenantA, 'Loser', [email(`lose.${t}@example.com`), social('telegram', `lose_${t}`)])).contact!;
    const { merge } = await client.mergeContacts({ survivorId: survivor.id, loserId: loser.id }, tenantA);
    expect(await ids(tenantA, `lose.${t}`)).toEqual([survivor.id]);
    expect(await ids(tenantA, `lose_${t}`)).toEqual([survivor.id]);
    expect(await searchPoints(loser.id)).toBeNull();
    await client.undoMerge({ mergeId: merge!.id }, tenantA);
    expect(await ids(tenantA, `lose.${t}`)).toEqual([loser.id]);
    expect(await ids(tenantA, `surv.${t}`)).toEqual([survivor.id]);
    expect(await searchPoints(survivor.id)).toBe(`surv.${t}@example.com`);
  });

  it('is kept by a bulk insert of many contacts’ points in one statement (as the import batch writes), also in replica mode', async () => {
    const t = tag();
    const a = (await create(tenantA, 'Bulk A', [])).contact!;
    const b = (await create(tenantA, 'Bulk B', [])).contact!;
    await svc.orm!.em.fork().transactional(async (em) => {
      await em.execute('SET LOCAL session_replication_role = replica');
      await em.execute(
        `INSERT INTO contact_points (id, tenant_id, contact_id, type, value, network, digits, verification, provenance_kind, created_at)
         SELECT gen_random_uuid(), ?, x.c::uuid, x.type, x.value, x.network, NULL, 'unverified', 'import', now()
           FROM (VALUES (?, 'email', ?, NULL), (?, 'social', ?, 'vk'), (?, 'email', ?, NULL)) AS x (c, type, value, network)`,
        [tenantA.tenantId, a.id, `bulk1.${t}@example.com`, a.id, `vk:bulk2_${t}`, b.id, `bulk3.${t}@example.com`],
      );
    });
    expect(await ids(tenantA, `bulk1.${t}`)).toEqual([a.id]);
    expect(await ids(tenantA, `bulk2_${t}`)).toEqual([a.id]);
    expect(await ids(tenantA, `bulk3.${t}`)).toEqual([b.id]);
    expect(await ids(tenantA, `bulk`)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it('does not let a query span two point values', async () => {
    const t = tag();
    await create(tenantA, 'Span', [email(`span${t}@aa.ru`), social('vk', `tail${t}`)]);
    expect(await ids(tenantA, `aa.ru vk:tail${t}`)).toEqual([]);
  });

  it('searches fewer than 4 digits as text (names, e-mails), not as a part of a phone', async () => {
    const d3 = String(100 + Math.floor(Math.random() * 900));
    const t = tag();
    const byPhone = (await create(tenantA, `Phone Only ${t}`, [phone(`+7999${d3}${d3}1`)])).contact!;
    const byEmail = (await create(tenantA, `Mail ${t}`, [email(`m${d3}.${t}@example.com`)])).contact!;
    const byName = (await create(tenantA, `Квартира ${d3} ${t}`, [])).contact!;
    const found = await ids(tenantA, d3);
    expect(found).toEqual(expect.arrayContaining([byEmail.id, byName.id]));
    expect(found).not.toContain(byPhone.id);
    // 4 digits are a part of a phone again
    expect(await ids(tenantA, `${d3}${d3}`.slice(0, 4))).toContain(byPhone.id);
  });
});
