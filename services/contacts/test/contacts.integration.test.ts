/**
 * contacts against the real engines over real gRPC: the service runs in-process (startContacts) on a
 * fresh PostgreSQL database with per-run Kafka topics; two tenants prove that every query is scoped.
 * Points, match-or-create under concurrency, search, lookup, duplicates, bad input (nothing half-written).
 */
import { ContactCreated, ContactUpdated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { ContactsServiceService, PointType, ProvenanceKind, Verification, type PointInput } from '@crm/contracts/crm/contacts/v1/contacts';
import { createClient, fromServiceError, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { collect, eventually, header, runId, uniqueName, type TestDatabase } from '@crm/testing';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { Kafka } from 'kafkajs';
import { CONTACT_CREATED, CONTACT_TOPIC, CONTACT_UPDATED } from '../src/events';
import { CONTACTS_SERVICE_NAME } from '../src/app';
import { startTestContacts, stopTestContacts } from './harness';

type Client = PromiseClient<typeof ContactsServiceService>;

const tenantA: TenantContext = { tenantId: uniqueName('tenant_a'), callerId: 'user-a', callerKind: 'user' };
const tenantB: TenantContext = { tenantId: uniqueName('tenant_b'), callerId: 'user-b', callerKind: 'user' };
const intakeA: TenantContext = { tenantId: tenantA.tenantId, callerId: 'intake', callerKind: 'service' };
const suffix = `.${uniqueName('contacts')}`;

let db: TestDatabase;
let kafka: Kafka;
let svc: RunningService;
let client: Client;
let address: string;

beforeAll(async () => {
  ({ db, kafka, svc } = await startTestContacts('contacts', suffix));
  address = `127.0.0.1:${svc.grpc.port}`;
  client = createClient(ContactsServiceService, { address });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stopTestContacts({ db, kafka, svc }, suffix);
});

/** The gRPC error a call fails with (fails the test when the call succeeds). */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

const fields = (err: ServiceError): string[] => fromServiceError(err).violations.map((v) => v.field);

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.getConnection().execute<T[]>(text, params);
}

/** Row counts of every table a contact write touches. */
async function counts(): Promise<Record<string, number>> {
  const tables = ['contacts', 'contact_points', 'client_cards', 'client_card_history', 'duplicates', 'outbox'];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  return out;
}

function health(service: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'health');
  const c = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(r: { service: string }, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service }, { deadline: Date.now() + 5000 }, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res!.status);
    }),
  );
}

const phone = (value: string, verified = false): PointInput => ({ type: PointType.POINT_TYPE_PHONE, value, network: '', verified });
const email = (value: string, verified = false): PointInput => ({ type: PointType.POINT_TYPE_EMAIL, value, network: '', verified });
const social = (network: string, value: string): PointInput => ({ type: PointType.POINT_TYPE_SOCIAL, value, network, verified: false });
const create = (t: TenantContext, name: string, points: PointInput[] = [], extra: { idempotencyKey?: string; companyId?: string } = {}) =>
  client.createContact({ name, points, companyId: extra.companyId ?? '', idempotencyKey: extra.idempotencyKey ?? '', defaultCountry: '' }, t);
const moc = (t: TenantContext, name: string, points: PointInput[], ref = 'r') =>
  client.matchOrCreate({ name, points, provenance: { kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: ref }, defaultCountry: '' }, t);
const list = (t: TenantContext, query: string, pageSize = 0, cursor = '') => client.listContacts({ query, companyId: '', pageSize, cursor }, t);

/** A fresh valid Russian mobile number per call: +7 9xx xxx xx xx. */
let phoneSeq = Math.floor(Math.random() * 1_000_000);
function freshDigits(): string {
  phoneSeq += 1;
  return `9${String(10 + (phoneSeq % 90)).padStart(2, '0')}${String(Math.floor(phoneSeq / 90) % 10_000_000).padStart(7, '0')}`;
}

describe('contacts', () => {
  it('serves grpc.health.v1 for the server and for its service', async () => {
    expect(await health('')).toBe('SERVING');
    expect(await health(CONTACTS_SERVICE_NAME)).toBe('SERVING');
  });

  it('creates a contact with normalised points and a personal card, that the other tenant cannot read', async () => {
    const d = freshDigits();
    const { contact: created, replayed } = await create(tenantA, '  Первый  ', [phone(`8 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`), email(' Pervy@Example.COM '), social('Telegram', '@Pervy')]);
    expect(replayed).toBe(false);
    expect(created).toMatchObject({ tenantId: tenantA.tenantId, name: 'Первый', version: 1, requestCount: 0, mergedIntoId: '' });
    expect(created!.provenance).toEqual({ kind: ProvenanceKind.PROVENANCE_KIND_USER, refId: 'user-a' });
    expect(created!.points.map((p) => [p.type, p.value, p.network, p.verification])).toEqual(
      expect.arrayContaining([
        [PointType.POINT_TYPE_PHONE, `+7${d}`, '', Verification.VERIFICATION_UNVERIFIED],
        [PointType.POINT_TYPE_EMAIL, 'pervy@example.com', '', Verification.VERIFICATION_UNVERIFIED],
        [PointType.POINT_TYPE_SOCIAL, 'telegram:pervy', 'telegram', Verification.VERIFICATION_UNVERIFIED],
      ]),
    );
    const stored = await sql<{ digits: string | null }>(`SELECT digits FROM contact_points WHERE contact_id = ? AND type = 'phone'`, [created!.id]);
    expect(stored).toEqual([{ digits: `7${d}` }]);
    const cards = await sql(`SELECT state, kind FROM client_cards WHERE contact_id = ?`, [created!.id]);
    expect(cards).toEqual([{ state: 'not_client', kind: 'direct' }]);

    const { contact: read } = await client.getContact({ id: created!.id }, tenantA);
    expect(read).toEqual(created);
    expect((await failure(client.getContact({ id: created!.id }, tenantB))).code).toBe(status.NOT_FOUND);
  });

  it('publishes created and updated events through the outbox, keyed by the contact, with the tenant', async () => {
    const watcher = await collect(kafka, `${CONTACT_TOPIC}${suffix}`, `contacts-watch-${runId}`);
    try {
      const { contact: created } = await create(tenantB, 'с событием');
      const { contact: updated } = await client.addContactPoint({ contactId: created!.id, point: email('sobytie@example.com'), defaultCountry: '' }, tenantB);
      const message = await eventually(() => watcher.messages.find((m) => header(m, 'ce_subject') === created!.id && header(m, 'ce_type') === CONTACT_CREATED), { until: Boolean, timeoutMs: 30_000 });
      expect(header(message!, 'ce_tenantid')).toBe(tenantB.tenantId);
      expect(message!.key?.toString()).toBe(`${tenantB.tenantId}:${created!.id}`);
      expect(ContactCreated.decode(message!.value!).contact).toEqual(created);
      const upd = await eventually(() => watcher.messages.find((m) => header(m, 'ce_subject') === created!.id && header(m, 'ce_type') === CONTACT_UPDATED), { until: Boolean, timeoutMs: 30_000 });
      expect(ContactUpdated.decode(upd!.value!)).toEqual({ contact: updated, change: 'point_added' });
    } finally {
      await watcher.stop();
    }
  });

  it('replays an idempotent create and refuses the same key with another body', async () => {
    const key = uniqueName('idem');
    const first = await create(tenantA, 'Идемпотентный', [email(`${key}@example.com`)], { idempotencyKey: key });
    const again = await create(tenantA, 'Идемпотентный', [email(`${key.toUpperCase()}@EXAMPLE.com`)], { idempotencyKey: key });
    expect(again).toEqual({ contact: first.contact, replayed: true });
    const other = await failure(create(tenantA, 'Другой', [], { idempotencyKey: key }));
    expect(other.code).toBe(status.FAILED_PRECONDITION);
    expect(fromServiceError(other).details.reason).toBe('idempotency_key_reused');
    // The other tenant's key space is its own.
    expect((await create(tenantB, 'Другой', [], { idempotencyKey: key })).replayed).toBe(false);
  });

  it('refuses a point owned by another contact, naming the owner, and writes nothing', async () => {
    const d = freshDigits();
    const { contact: owner } = await create(tenantA, 'Владелец', [phone(`+7${d}`)]);
    const before = await counts();
    const err = await failure(create(tenantA, 'Захватчик', [email('zahvat@example.com'), phone(`8${d}`)]));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    const back = fromServiceError(err);
    expect(back.details).toMatchObject({ reason: 'point_owned', owner_contact_id: owner!.id });
    expect(back.violations).toEqual([{ field: 'points[1].value', message: `belongs to contact ${owner!.id}` }]);

    const { contact: other } = await create(tenantA, 'Другой');
    const before2 = await counts();
    const add = await failure(client.addContactPoint({ contactId: other!.id, point: phone(`+7 ${d}`), defaultCountry: '' }, tenantA));
    expect(add.code).toBe(status.ALREADY_EXISTS);
    expect(fromServiceError(add).details.owner_contact_id).toBe(owner!.id);
    expect(await counts()).toEqual(before2);
    expect(before2.contacts).toBe(before.contacts + 1);

    // Adding a point the contact already has changes nothing; another tenant may own the same point.
    const same = await client.addContactPoint({ contactId: owner!.id, point: phone(`8${d}`), defaultCountry: '' }, tenantA);
    expect(same.contact!.version).toBe(1);
    expect((await create(tenantB, 'Владелец Б', [phone(`+7${d}`)])).contact!.points[0].value).toBe(`+7${d}`);
  });

  it('answers bad input with INVALID_ARGUMENT listing each problem, and writes nothing', async () => {
    const before = await counts();
    const bad = async (call: Promise<unknown>, expected: string[]) => {
      const err = await failure(call);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(fields(err)).toEqual(expected);
    };
    await bad(create(tenantA, ''), ['name']);
    await bad(create(tenantA, 'x'.repeat(201)), ['name']);
    await bad(create(tenantA, 'Плохой', [phone('12345'), email('ok@example.com'), email('not-an-email'), social('myspace', 'x')]), ['points[0].value', 'points[2].value', 'points[3].network']);
    await bad(create(tenantA, 'Много', Array.from({ length: 21 }, (_, i) => email(`many${i}@example.com`))), ['points']);
    await bad(moc(tenantA, 'Без точек', []), ['points']);
    await bad(moc(tenantA, 'Плохой', [phone('+7 000 000 00 00'), email('a@b')]), ['points[0].value', 'points[1].value']);
    await bad(client.matchOrCreate({ name: '', points: [phone('89991112233')], provenance: undefined, defaultCountry: 'XX' }, tenantA), ['default_country']);
    await bad(client.lookupContact({ point: email('nope'), defaultCountry: '' }, tenantA), ['point.value']);
    for (const id of ['', 'not-a-uuid', "' OR 1=1 --"]) await bad(client.getContact({ id }, tenantA), ['id']);
    await bad(list(tenantA, '', 101), ['page_size']);
    await bad(list(tenantA, '', 0, 'garbage!'), ['cursor']);
    await bad(list(tenantA, 'x'.repeat(201)), ['query']);
    await bad(client.listDuplicates({ status: 'whatever', pageSize: 0, cursor: '' }, tenantA), ['status']);
    expect(await counts()).toEqual(before);
  });

  it('updates with expected_version and refuses a stale one', async () => {
    const { contact: c } = await create(tenantA, 'Версия');
    const { contact: u } = await client.updateContact({ id: c!.id, name: 'Версия 2', expectedVersion: 1 }, tenantA);
    expect(u).toMatchObject({ name: 'Версия 2', version: 2 });
    const before = await counts();
    const stale = await failure(client.updateContact({ id: c!.id, name: 'Версия 3', expectedVersion: 1 }, tenantA));
    expect(stale.code).toBe(status.FAILED_PRECONDITION);
    expect(fromServiceError(stale).details).toMatchObject({ reason: 'version_mismatch', current_version: '2' });
    expect(await counts()).toEqual(before);
    expect((await failure(client.updateContact({ id: c!.id, name: 'Чужой', expectedVersion: 0 }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await client.getContact({ id: c!.id }, tenantA)).contact!.name).toBe('Версия 2');
  });

  it('removes a point and sets verification, recorded with who did it', async () => {
    const d = freshDigits();
    const { contact: c } = await create(tenantA, 'Проверка', [phone(`+7${d}`), email(`prov${d}@example.com`)]);
    const ph = c!.points.find((p) => p.type === PointType.POINT_TYPE_PHONE)!;
    const em = c!.points.find((p) => p.type === PointType.POINT_TYPE_EMAIL)!;
    const { contact: v } = await client.setPointVerification({ contactId: c!.id, pointId: ph.id, verification: Verification.VERIFICATION_VERIFIED }, tenantA);
    expect(v!.points.find((p) => p.id === ph.id)).toMatchObject({ verification: Verification.VERIFICATION_VERIFIED, verifiedBy: 'user-a' });
    expect((await failure(client.setPointVerification({ contactId: c!.id, pointId: ph.id, verification: Verification.VERIFICATION_VERIFIED }, tenantB))).code).toBe(status.NOT_FOUND);
    expect((await failure(client.removeContactPoint({ contactId: c!.id, pointId: em.id }, tenantB))).code).toBe(status.NOT_FOUND);
    const { contact: r } = await client.removeContactPoint({ contactId: c!.id, pointId: em.id }, tenantA);
    expect(r!.points.map((p) => p.id)).toEqual([ph.id]);
    expect(r!.version).toBe(3);
    // The removed e-mail is free again.
    expect((await create(tenantA, 'Новый владелец', [email(`prov${d}@example.com`)])).contact!.points).toHaveLength(1);
  });

  describe('match-or-create', () => {
    it('returns the owner of any matched point, adds the new points and fills an empty name', async () => {
      const d = freshDigits();
      const first = await moc(intakeA, '', [phone(`+7${d}`)], 'req-1');
      expect(first).toMatchObject({ created: true, verified: false, duplicateId: '' });
      expect(first.contact!.provenance).toEqual({ kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: 'req-1' });
      const again = await moc(intakeA, 'Пётр', [phone(`8${d}`), email(`petr${d}@Example.com`)], 'req-2');
      expect(again.created).toBe(false);
      expect(again.contact).toMatchObject({ id: first.contact!.id, name: 'Пётр', version: 2 });
      expect(again.contact!.points).toHaveLength(2);
      expect(again.pointIds.sort()).toEqual(again.contact!.points.map((p) => p.id).sort());
      // Nothing new: no write at all.
      const before = await counts();
      const third = await moc(intakeA, 'Другое имя', [email(`PETR${d}@example.com`)], 'req-3');
      expect(third.contact).toMatchObject({ id: first.contact!.id, name: 'Пётр', version: 2 });
      expect(third.pointIds).toEqual([again.contact!.points.find((p) => p.type === PointType.POINT_TYPE_EMAIL)!.id]);
      expect(await counts()).toEqual(before);
      // Another tenant gets its own contact for the same points.
      const b = await moc({ ...intakeA, tenantId: tenantB.tenantId }, '', [phone(`+7${d}`)]);
      expect(b.created).toBe(true);
      expect(b.contact!.id).not.toBe(first.contact!.id);
    });

    it('picks by the documented rule when the points belong to several contacts and records the duplicate once', async () => {
      const d1 = freshDigits();
      const { contact: older } = await create(tenantA, 'Старый', [email(`old${d1}@example.com`)]);
      const { contact: withPhone } = await create(tenantA, 'С телефоном', [phone(`+7${d1}`)]);
      const r = await moc(intakeA, '', [email(`old${d1}@example.com`), phone(`+7${d1}`)]);
      expect(r.contact!.id).toBe(withPhone!.id); // the phone owner beats the older e-mail owner
      expect(r.duplicateId).not.toBe('');
      const r2 = await moc(intakeA, '', [email(`old${d1}@example.com`), phone(`+7${d1}`)]);
      expect(r2.duplicateId).toBe(r.duplicateId);
      const dups = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM duplicates WHERE id = ? AND reason = 'shared_point' AND status = 'open'`, [r.duplicateId]);
      expect(dups[0].n).toBe(1);

      // A verified point beats the phone.
      const emailPoint = older!.points[0];
      await client.setPointVerification({ contactId: older!.id, pointId: emailPoint.id, verification: Verification.VERIFICATION_VERIFIED }, tenantA);
      const r3 = await moc(intakeA, '', [email(`old${d1}@example.com`), phone(`+7${d1}`)]);
      expect(r3).toMatchObject({ verified: true, duplicateId: r.duplicateId });
      expect(r3.contact!.id).toBe(older!.id);

      const { duplicates } = await client.listDuplicates({ status: '', pageSize: 100, cursor: '' }, tenantA);
      const mine = duplicates.find((x) => x.id === r.duplicateId)!;
      expect([mine.first!.id, mine.second!.id].sort()).toEqual([older!.id, withPhone!.id].sort());
      expect(mine.first!.points.length).toBeGreaterThan(0);
      expect((await client.listDuplicates({ status: '', pageSize: 100, cursor: '' }, tenantB)).duplicates.find((x) => x.id === r.duplicateId)).toBeUndefined();
      expect((await failure(client.dismissDuplicate({ id: r.duplicateId }, tenantB))).code).toBe(status.NOT_FOUND);
      const { duplicate } = await client.dismissDuplicate({ id: r.duplicateId }, tenantA);
      expect(duplicate!.status).toBe('dismissed');
      expect((await client.listDuplicates({ status: 'dismissed', pageSize: 100, cursor: '' }, tenantA)).duplicates.map((x) => x.id)).toContain(r.duplicateId);
    });

    it('marks a verified point from a trusted source as verified', async () => {
      const d = freshDigits();
      const { contact } = await create(tenantA, 'Звонящий', [phone(`+7${d}`)]);
      const r = await moc(intakeA, '', [phone(`+7${d}`, true)]);
      expect(r).toMatchObject({ created: false, verified: true });
      expect(r.contact!.id).toBe(contact!.id);
    });

    it('makes exactly one contact out of 50 concurrent calls with one phone written five ways, 100 times over', async () => {
      const started = Date.now();
      for (let round = 0; round < 100; round += 1) {
        const d = freshDigits();
        const [a, b, c, x, y] = [d.slice(0, 3), d.slice(3, 6), d.slice(6, 8), d.slice(8, 10), d.slice(3, 6)];
        const ways = [`+7 ${a} ${b}-${c}-${x}`, `8${d}`, `8 (${a}) ${y} ${c} ${x}`, `+7${d}`, `7-${a}-${b}-${c}${x}`];
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => moc(intakeA, `Гонка ${round}`, [phone(ways[i % 5])], `race-${round}-${i}`)));
        const ids = new Set(results.map((r) => r.contact!.id));
        expect(ids.size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const owners = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM contact_points WHERE tenant_id = ? AND value = ?`, [tenantA.tenantId, `+7${d}`]);
        expect(owners[0].n).toBe(1);
        const made = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = ? AND name = ?`, [tenantA.tenantId, `Гонка ${round}`]);
        expect(made[0].n).toBe(1);
      }
      process.stdout.write(`match-or-create race, phone: 100 rounds × 50 calls in ${Date.now() - started} ms\n`);
    }, 240_000); // 43–70 s measured at load ~11 on 2 cores; the bound allows for a machine shared with other suites

    it('does the same for one e-mail in mixed case', async () => {
      const started = Date.now();
      for (let round = 0; round < 100; round += 1) {
        const local = uniqueName('race');
        const ways = [`${local}@example.com`, `${local.toUpperCase()}@EXAMPLE.COM`, ` ${local}@Example.Com `, `${local[0].toUpperCase()}${local.slice(1)}@example.COM`, `${local}@EXAMPLE.com`];
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => moc(intakeA, '', [email(ways[i % 5])])));
        expect(new Set(results.map((r) => r.contact!.id)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const cards = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM client_cards WHERE contact_id = ?`, [results[0].contact!.id]);
        expect(cards[0].n).toBe(1);
      }
      process.stdout.write(`match-or-create race, e-mail: 100 rounds × 50 calls in ${Date.now() - started} ms\n`);
    }, 240_000); // 43–70 s measured at load ~11 on 2 cores; the bound allows for a machine shared with other suites
  });

  describe('search and lookup', () => {
    let ivan: string;
    let maria: string;
    let digits: string;
    beforeAll(async () => {
      digits = freshDigits();
      ivan = (await create(tenantA, 'Иван Поисковый', [phone(`+7${digits}`), email(`ivan.search${digits}@example.com`)])).contact!.id;
      maria = (await create(tenantA, 'Мария Ёлкина', [social('vk', `@Maria_${digits}`)])).contact!.id;
      await create(tenantB, 'Иван Поисковый', [phone(`+7${digits}`)]);
    });

    const idsOf = async (t: TenantContext, q: string) => (await list(t, q, 100)).contacts.map((c) => c.id);

    it('finds a name case-insensitively in Cyrillic, ё as е', async () => {
      expect(await idsOf(tenantA, 'ИВАН поиск')).toEqual([ivan]);
      expect(await idsOf(tenantA, 'иван пои')).toEqual([ivan]);
      expect(await idsOf(tenantA, 'елкина')).toEqual([maria]);
      expect(await idsOf(tenantA, 'ЁЛКИНА')).toEqual([maria]);
    });

    it('finds a phone by its digits however typed, an e-mail or a handle by a part', async () => {
      const d = digits;
      for (const q of [`8 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`, `+7${d}`, d.slice(2, 9), `${d.slice(3, 6)}-${d.slice(6, 8)}`]) {
        expect(await idsOf(tenantA, q)).toContain(ivan);
      }
      expect(await idsOf(tenantA, `IVAN.SEARCH${d}`)).toEqual([ivan]);
      expect(await idsOf(tenantA, `maria_${d}`)).toEqual([maria]);
    });

    it('pages newest first with a cursor and leaves merged contacts out', async () => {
      const all: string[] = [];
      let cursor = '';
      do {
        const p = await list(tenantA, '', 7, cursor);
        expect(p.contacts.length).toBeLessThanOrEqual(7);
        all.push(...p.contacts.map((c) => c.id));
        cursor = p.nextCursor;
      } while (cursor);
      const expected = await sql<{ id: string }>('SELECT id FROM contacts WHERE tenant_id = ? AND merged_into_id IS NULL ORDER BY created_at DESC, id DESC', [tenantA.tenantId]);
      expect(all).toEqual(expected.map((r) => r.id));
    }, 60_000);

    it('looks a contact up by one point; the other tenant finds only its own', async () => {
      const a = await client.lookupContact({ point: phone(`8${digits}`), defaultCountry: '' }, tenantA);
      expect(a.contact!.id).toBe(ivan);
      const b = await client.lookupContact({ point: phone(`8${digits}`), defaultCountry: '' }, tenantB);
      expect(b.contact!.id).not.toBe(ivan);
      expect((await failure(client.lookupContact({ point: social('vk', `maria_${digits}`), defaultCountry: '' }, tenantB))).code).toBe(status.NOT_FOUND);
      expect(await idsOf(tenantB, 'Мария')).toEqual([]);
      expect(await idsOf(tenantB, `maria_${digits}`)).toEqual([]);
    });
  });

  it('records same_name_similar_point for the same name and a phone differing in its last digits', async () => {
    const d = freshDigits();
    const other = `${d.slice(0, 8)}${d.slice(8) === '00' ? '01' : '00'}`;
    const { contact: a } = await create(tenantA, 'Похожий Человек', [phone(`+7${d}`)]);
    const { contact: b } = await create(tenantA, 'похожий  человек', [phone(`+7${other}`)]);
    const rows = await sql<{ reason: string }>('SELECT reason FROM duplicates WHERE tenant_id = ? AND first_id = ? AND second_id = ?', [tenantA.tenantId, ...[a!.id, b!.id].sort()]);
    expect(rows).toEqual([{ reason: 'same_name_similar_point' }]);
    const { contact: c } = await create(tenantA, 'Похожий Человек', [email(`pohozh${d}@example.com`)]);
    const { contact: e } = await create(tenantA, 'Другой Человек', [email(`pohozh${d}@mail.ru`)]);
    await client.addContactPoint({ contactId: c!.id, point: email(`pohozh${d}@yandex.ru`), defaultCountry: '' }, tenantA);
    const none = await sql('SELECT 1 FROM duplicates WHERE tenant_id = ? AND first_id = ? AND second_id = ?', [tenantA.tenantId, ...[c!.id, e!.id].sort()]);
    expect(none).toEqual([]);
  });
});
