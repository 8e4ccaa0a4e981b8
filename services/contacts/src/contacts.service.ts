/**
 * Contacts' use cases over PostgreSQL (raw SQL in transactions; events through the outbox in the same
 * transaction). Every statement is scoped by tenant; another tenant's contact looks exactly like a missing
 * one. A point has one owner per tenant by the unique (tenant_id, type, value) index: points are inserted
 * with ON CONFLICT DO NOTHING and the owner read afterwards, never checked first.
 *
 * Lock order, the same in every writer so that none waits on another in a cycle: contact points (inserted,
 * sorted by type and value) first, then the contact row (UPDATE … WHERE merged_into_id IS NULL, which is
 * also the guard against writing to a contact merged meanwhile). Merges lock both contacts first and then
 * touch only rows no other writer inserts.
 */
import { ContactCreated, ContactUpdated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import {
  Verification,
  type AddContactPointRequest,
  type Contact,
  type CreateContactRequest,
  type Duplicate,
  type ListContactsRequest,
  type LookupContactRequest,
  type LookupContactResponse,
  type MatchOrCreateRequest,
  type MatchOrCreateResponse,
  type RemoveContactPointRequest,
  type SetPointVerificationRequest,
  type UpdateContactRequest,
} from '@crm/contracts/crm/contacts/v1/contacts';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { createHash } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js';
import { openPersonalCard } from './cards/personal-card';
import { decodeKeyset, page, pageSize, TS_KEY_RE } from './cards/keyset';
import { CONTACT_COLUMNS, contactMessage, iso, isRetryable, loadContact, loadContacts, type ContactRow, type PointRow } from './contacts.sql';
import { contactId, contactName, optionalId, searchName } from './domain/contact';
import { orderedPair, pickOwner } from './domain/match';
import { POINTS_MAX, prepareCountry, preparePoint, preparePoints, prepareProvenance, pointKey, type PreparedPoint, type ProvenanceName } from './domain/points';
import { likeContains, parseSearch } from './domain/search';
import { similarPatterns } from './domain/similar';
import { CONTACT_CREATED, CONTACT_TOPIC, CONTACT_UPDATED, EVENT_SOURCE } from './events';

export const IDEMPOTENCY_MISMATCH = 'Idempotency-Key was already used with a different body';
export const IDEMPOTENCY_KEY_MAX = 200;
const ATTEMPTS = 8;
const CONTACTS_LIST = 'contacts';
const DUPLICATES_LIST = 'duplicates';

/** Who calls: the tenant and the caller (a user id for people, a service name for services). */
export interface Caller {
  tenantId: string;
  callerId: string;
}

/** Thrown inside a transaction to roll it back and run the whole use case again (a lost race). */
export class Retry extends Error {
  constructor(why: string) {
    super(`retry: ${why}`);
  }
}

/** Runs `attempt` until it neither throws Retry nor a deadlock / serialization failure (bounded). */
export async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= ATTEMPTS || !(err instanceof Retry || isRetryable(err))) {
        if (err instanceof Retry) throw new DomainError('UNAVAILABLE', 'too much contention on these contact points; retry', { cause: err });
        throw err;
      }
      if (i > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
    }
  }
}

export function pointOwned(ownerId: string, field: string, value: string): DomainError {
  return new DomainError('ALREADY_EXISTS', `the point ${value} belongs to contact ${ownerId}`, {
    details: { reason: 'point_owned', public: { owner_contact_id: ownerId, point_value: value } },
    violations: [{ field, message: `belongs to contact ${ownerId}` }],
  });
}

function contactMerged(id: string, into: string): DomainError {
  return new DomainError('FAILED_PRECONDITION', `contact ${id} was merged into ${into}`, { details: { reason: 'contact_merged', public: { merged_into_id: into } } });
}

/**
 * The contact's personal client card (its own, not a company's) as routing reads it: state and owner,
 * selected with the contact in the same statement (intake routes every request by them).
 */
interface WithPersonalCard {
  personal_card: { state: string; owner_id: string | null } | null;
}

const PERSONAL_CARD_COLUMN = `(SELECT json_build_object('state', k.state, 'owner_id', k.owner_id) FROM client_cards k
   WHERE k.tenant_id = c.tenant_id AND k.contact_id = c.id ORDER BY k.created_at, k.id LIMIT 1) AS personal_card`;

async function personalCard(em: EntityManager, tenantId: string, contact: string): Promise<WithPersonalCard['personal_card']> {
  const [row] = await em.execute<{ state: string; owner_id: string | null }[]>(
    'SELECT state, owner_id FROM client_cards WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at, id LIMIT 1',
    [tenantId, contact],
  );
  return row ?? null;
}

/** `client_state` (`none` without a card) and `owner_id` of MatchOrCreate / LookupContact answers. */
function personalCardOf(row: WithPersonalCard): { clientState: string; ownerId: string } {
  return { clientState: row.personal_card?.state ?? 'none', ownerId: row.personal_card?.owner_id ?? '' };
}

function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

function publishUpdated(em: EntityManager, row: ContactRow, change: string): void {
  enqueueEvent(em, { topic: CONTACT_TOPIC, type: CONTACT_UPDATED, codec: ContactUpdated, payload: { contact: contactMessage(row), change }, subject: row.id, tenantId: row.tenant_id, source: EVENT_SOURCE });
}

function publishCreated(em: EntityManager, row: ContactRow): void {
  enqueueEvent(em, { topic: CONTACT_TOPIC, type: CONTACT_CREATED, codec: ContactCreated, payload: { contact: contactMessage(row) }, subject: row.id, tenantId: row.tenant_id, source: EVENT_SOURCE });
}

interface NewContact {
  name: string | null;
  companyId: string | null;
  provenance: { kind: ProvenanceName; ref: string | null };
  idempotencyKey: string | null;
  fingerprint: string | null;
  points: PreparedPoint[];
}

/** A match of one request point: the point as stored and its owner. */
interface MatchedPoint {
  id: string;
  contact_id: string;
  type: string;
  value: string;
  verification: string;
}

export class ContactsService {
  constructor(
    private readonly orm: MikroORM,
    /** Country for phones written without a +country code when the call names none. */
    private readonly defaultCountry: CountryCode,
  ) {}

  // ---- create ------------------------------------------------------------------------------------------

  async create(caller: Caller, req: CreateContactRequest): Promise<{ contact: Contact; replayed: boolean }> {
    const country = prepareCountry(req.defaultCountry, this.defaultCountry);
    const name = contactName(req.name);
    const points = preparePoints(req.points, country);
    if (name === null && !points.length) throw new ValidationError('a contact needs a name or a point', [{ field: 'name', message: 'is required when there are no points' }]);
    const companyId = optionalId(req.companyId, 'company_id');
    const key = req.idempotencyKey.trim() || null;
    if (key !== null && key.length > IDEMPOTENCY_KEY_MAX) throw new ValidationError('idempotency_key is too long', [{ field: 'idempotency_key', message: `must be at most ${IDEMPOTENCY_KEY_MAX} characters` }]);
    const fp = fingerprint({ name, companyId, points: points.map((p) => [p.type, p.value, p.verified]) });
    const input: NewContact = { name, companyId, provenance: { kind: 'user', ref: caller.callerId || null }, idempotencyKey: key, fingerprint: fp, points };

    return withRetry(() =>
      this.orm.em.fork().transactional(async (em) => {
        if (key !== null) {
          await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`contacts:idempotency:${caller.tenantId}:${key}`]);
          const [existing] = await em.execute<ContactRow[]>(`SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.tenant_id = ? AND c.idempotency_key = ?`, [caller.tenantId, key]);
          if (existing) {
            if (existing.fingerprint !== fp) throw new DomainError('FAILED_PRECONDITION', IDEMPOTENCY_MISMATCH, { details: { reason: 'idempotency_key_reused' } });
            return { contact: contactMessage(existing), replayed: true };
          }
        }
        if (companyId !== null) await this.requireCompany(em, caller.tenantId, companyId);
        const { row, missing } = await this.insertContact(em, caller.tenantId, input);
        if (missing.length) {
          const owners = await this.ownersOf(em, caller.tenantId, missing);
          const first = missing.find((p) => owners.has(pointKey(p)));
          if (!first) throw new Retry('the owner of a point went away');
          const index = req.points.findIndex((raw) => {
            const p = preparePoint(raw, country, '', []);
            return p !== null && pointKey(p) === pointKey(first);
          });
          throw pointOwned(owners.get(pointKey(first))!, `points[${index}].value`, first.value);
        }
        await this.afterCreate(em, row, caller);
        await this.recordSimilar(em, row, points);
        return { contact: contactMessage(row), replayed: false };
      }),
    );
  }

  /** The personal card and the created event of a new contact (same transaction). */
  private async afterCreate(em: EntityManager, row: ContactRow, caller: Caller): Promise<void> {
    await openPersonalCard(em, caller.tenantId, row.id, { kind: 'user', ref: caller.callerId || 'unknown' }, row.name ?? '');
    publishCreated(em, row);
  }

  private async requireCompany(em: EntityManager, tenantId: string, companyId: string): Promise<void> {
    const found = await em.execute('SELECT 1 FROM companies WHERE tenant_id = ? AND id = ?', [tenantId, companyId]);
    if (!found.length) throw new ValidationError(`company ${companyId} not found`, [{ field: 'company_id', message: 'no such company' }]);
  }

  /**
   * Inserts a contact and its points in one statement; points already owned (by anyone) are skipped and
   * returned as `missing` — the caller decides (roll back and report, or retry).
   */
  private async insertContact(em: EntityManager, tenantId: string, c: NewContact): Promise<{ row: ContactRow; missing: PreparedPoint[] }> {
    const id = uuidv7();
    const now = new Date();
    const pointRows = c.points.map((p) => ({ id: uuidv7(), type: p.type, value: p.value, network: p.network, digits: p.digits, verification: p.verified ? 'verified' : 'unverified' }));
    const inserted = await em.execute<{ id: string }[]>(
      `WITH c AS (
         INSERT INTO contacts (id, tenant_id, name, search_name, company_id, provenance_kind, provenance_ref, idempotency_key, fingerprint, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id),
       p AS (
         INSERT INTO contact_points (id, tenant_id, contact_id, type, value, network, digits, verification, verified_by, provenance_kind, provenance_ref, created_at)
         SELECT x.id, ?, (SELECT id FROM c), x.type, x.value, x.network, x.digits, x.verification, NULL, ?, ?, ?
           FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, type text, value text, network text, digits text, verification text)
         ON CONFLICT (tenant_id, type, value) DO NOTHING
         RETURNING id)
       SELECT id FROM p`,
      [id, tenantId, c.name, searchName(c.name), c.companyId, c.provenance.kind, c.provenance.ref, c.idempotencyKey, c.fingerprint, now, now, tenantId, c.provenance.kind, c.provenance.ref, now, JSON.stringify(pointRows)],
    );
    const got = new Set(inserted.map((r) => r.id));
    const missing = c.points.filter((_, i) => !got.has(pointRows[i].id));
    const row: ContactRow = {
      id,
      tenant_id: tenantId,
      name: c.name,
      search_name: searchName(c.name),
      company_id: c.companyId,
      merged_into_id: null,
      provenance_kind: c.provenance.kind,
      provenance_ref: c.provenance.ref,
      version: 1,
      created_at: now,
      updated_at: now,
      request_count: 0,
      points: pointRows
        .filter((p) => got.has(p.id))
        .map((p) => ({ ...p, verification: p.verification as PointRow['verification'], verified_by: null, provenance_kind: c.provenance.kind, provenance_ref: c.provenance.ref, created_at: now })),
    };
    return { row, missing };
  }

  /** The current owners of points: `type\0value` → contact id. */
  private async ownersOf(em: EntityManager, tenantId: string, points: { type: string; value: string }[]): Promise<Map<string, string>> {
    if (!points.length) return new Map();
    const rows = await em.execute<{ type: string; value: string; contact_id: string }[]>(
      `SELECT type, value, contact_id FROM contact_points WHERE tenant_id = ? AND (type, value) IN (${points.map(() => '(?, ?)').join(', ')})`,
      [tenantId, ...points.flatMap((p) => [p.type, p.value])],
    );
    return new Map(rows.map((r) => [pointKey(r), r.contact_id]));
  }

  /**
   * `same_name_similar_point` (src/domain/similar.ts): other contacts with the same search name and a phone
   * differing only in its last two digits or an e-mail with the same local part; one open pair each.
   */
  private async recordSimilar(em: EntityManager, row: ContactRow, points: { type: string; value: string; digits: string | null }[]): Promise<void> {
    if (!row.search_name) return;
    const { phoneDigits, emails } = similarPatterns(points);
    if (!phoneDigits.length && !emails.length) return;
    const conds: string[] = [];
    const params: unknown[] = [row.tenant_id, row.id, row.search_name];
    for (const d of phoneDigits) {
      conds.push(`(p.type = 'phone' AND p.digits LIKE ? AND length(p.digits) = ?)`);
      params.push(d, d.length);
    }
    for (const e of emails) {
      conds.push(`(p.type = 'email' AND p.value LIKE ?)`);
      params.push(e);
    }
    const similar = await em.execute<{ id: string }[]>(
      `SELECT DISTINCT c.id FROM contact_points p JOIN contacts c ON c.id = p.contact_id
        WHERE p.tenant_id = ? AND p.contact_id <> ? AND c.merged_into_id IS NULL AND c.search_name = ? AND (${conds.join(' OR ')})
        LIMIT 10`,
      params,
    );
    for (const s of similar) await this.recordDuplicate(em, row.tenant_id, row.id, s.id, 'same_name_similar_point');
  }

  /** Records a probable duplicate pair once (ON CONFLICT DO NOTHING); returns its id, new or existing. */
  async recordDuplicate(em: EntityManager, tenantId: string, a: string, b: string, reason: string): Promise<string> {
    const [first, second] = orderedPair(a, b);
    const rows = await em.execute<{ id: string }[]>(
      `WITH ins AS (
         INSERT INTO duplicates (id, tenant_id, first_id, second_id, reason, status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?)
         ON CONFLICT (tenant_id, first_id, second_id) DO NOTHING RETURNING id)
       SELECT id FROM ins UNION ALL SELECT id FROM duplicates WHERE tenant_id = ? AND first_id = ? AND second_id = ?`,
      [uuidv7(), tenantId, first, second, reason, new Date(), tenantId, first, second],
    );
    if (rows.length) return rows[0].id;
    // Inserted by a concurrent transaction after this statement's snapshot: visible to the next one.
    const again = await em.execute<{ id: string }[]>('SELECT id FROM duplicates WHERE tenant_id = ? AND first_id = ? AND second_id = ?', [tenantId, first, second]);
    if (!again.length) throw new Retry('duplicate pair vanished');
    return again[0].id;
  }

  // ---- match-or-create ---------------------------------------------------------------------------------

  /**
   * The hot path of every inbound request. When every point is already owned by one contact and nothing
   * changes, it is one read statement; a new contact is one insert statement plus its card and events.
   */
  async matchOrCreate(caller: Caller, req: MatchOrCreateRequest): Promise<MatchOrCreateResponse> {
    const country = prepareCountry(req.defaultCountry, this.defaultCountry);
    const name = contactName(req.name);
    const points = preparePoints(req.points, country, { min: 1 });
    const provenance = prepareProvenance(req.provenance, caller.callerId);
    return withRetry(() => this.matchOrCreateOnce(caller, { name, points, provenance }));
  }

  private async matchOrCreateOnce(
    caller: Caller,
    input: { name: string | null; points: PreparedPoint[]; provenance: { kind: ProvenanceName; ref: string | null } },
  ): Promise<MatchOrCreateResponse> {
    const { tenantId } = caller;
    const em = this.orm.em.fork();
    const { owners, matched } = await this.match(em, tenantId, input.points);

    if (!owners.length) {
      return em.transactional(async (tx) => {
        const { row, missing } = await this.insertContact(tx, tenantId, { ...input, companyId: null, idempotencyKey: null, fingerprint: null });
        // Lost the race for a point: roll the new contact back and match again (the winner is committed).
        if (missing.length) throw new Retry('a point was taken concurrently');
        await openPersonalCard(tx, tenantId, row.id, { kind: 'event', ref: 'crm.contacts.match_or_create' }, row.name ?? '');
        publishCreated(tx, row);
        return { contact: contactMessage(row), created: true, pointIds: row.points.map((p) => p.id), verified: row.points.some((p) => p.verification === 'verified'), duplicateId: '', clientState: 'not_client', ownerId: '' };
      });
    }

    const byId = new Map(owners.map((o) => [o.id, o]));
    const chosen = pickOwner(
      owners.map((o) => {
        const mine = matched.filter((m) => m.contact_id === o.id);
        return { row: o, contactId: o.id, createdAt: new Date(o.created_at), verifiedMatch: mine.some((m) => m.verification === 'verified'), phoneMatch: mine.some((m) => m.type === 'phone') };
      }),
    ).row;
    const matchedKeys = new Set(matched.map(pointKey));
    const unowned = input.points.filter((p) => !matchedKeys.has(pointKey(p)));
    const wanted = new Map(input.points.map((p) => [pointKey(p), p]));
    const upgrade = matched.filter((m) => m.contact_id === chosen.id && m.verification !== 'verified' && wanted.get(pointKey(m))?.verified);
    const fillName = chosen.name === null && input.name !== null;
    const others = owners.filter((o) => o.id !== chosen.id);
    const mineIds = matched.filter((m) => m.contact_id === chosen.id).map((m) => m.id);

    if (!unowned.length && !upgrade.length && !fillName && !others.length) {
      return { contact: contactMessage(chosen), created: false, pointIds: mineIds, verified: matched.some((m) => m.contact_id === chosen.id && m.verification === 'verified'), duplicateId: '', ...personalCardOf(chosen) };
    }

    return em.transactional(async (tx) => {
      const added = await this.insertPoints(tx, tenantId, chosen.id, unowned, input.provenance);
      if (added.length < unowned.length) throw new Retry('a point was taken concurrently');
      if (upgrade.length) {
        await tx.execute(`UPDATE contact_points SET verification = 'verified' WHERE tenant_id = ? AND id IN (?) AND verification <> 'verified'`, [tenantId, upgrade.map((u) => u.id)]);
      }
      const changed = added.length > 0 || upgrade.length > 0 || fillName;
      if (changed) {
        const nameSql = fillName ? ', name = COALESCE(name, ?), search_name = COALESCE(search_name, ?)' : '';
        const params: unknown[] = [new Date(), ...(fillName ? [input.name, searchName(input.name)] : []), tenantId, chosen.id];
        const ok = await tx.execute(`UPDATE contacts SET version = version + 1, updated_at = ?${nameSql} WHERE tenant_id = ? AND id = ? AND merged_into_id IS NULL RETURNING id`, params);
        // Merged (or gone) since the match: match again, the points moved with the merge.
        if (!ok.length) throw new Retry('the contact was merged concurrently');
      }
      let duplicateId = '';
      for (const o of others) {
        const id = await this.recordDuplicate(tx, tenantId, chosen.id, o.id, 'shared_point');
        duplicateId ||= id;
      }
      const row = changed ? (await loadContact(tx, tenantId, chosen.id))! : byId.get(chosen.id)!;
      if (changed) publishUpdated(tx, row, added.length || upgrade.length ? 'point_added' : 'name');
      const keys = new Set(input.points.map(pointKey));
      const mine = row.points.filter((p) => keys.has(pointKey(p)));
      return { contact: contactMessage(row), created: false, pointIds: mine.map((p) => p.id), verified: mine.some((p) => p.verification === 'verified'), duplicateId, ...personalCardOf(byId.get(chosen.id)!) };
    });
  }

  /**
   * The owners of a request's points, each with all its points and request count, in one statement.
   * Points never belong to a merged contact (a merge moves them); if one does, its survivor is followed.
   */
  private async match(em: EntityManager, tenantId: string, points: PreparedPoint[]): Promise<{ owners: (ContactRow & WithPersonalCard)[]; matched: MatchedPoint[] }> {
    const rows = await em.execute<(ContactRow & WithPersonalCard & { matched: MatchedPoint[] })[]>(
      `WITH m AS (
         SELECT p.id, p.contact_id, p.type, p.value, p.verification FROM contact_points p
          WHERE p.tenant_id = ? AND (p.type, p.value) IN (${points.map(() => '(?, ?)').join(', ')}))
       SELECT ${CONTACT_COLUMNS}, ${PERSONAL_CARD_COLUMN},
              (SELECT json_agg(json_build_object('id', m.id, 'contact_id', m.contact_id, 'type', m.type, 'value', m.value, 'verification', m.verification)) FROM m WHERE m.contact_id = c.id) AS matched
         FROM contacts c WHERE c.tenant_id = ? AND c.id IN (SELECT contact_id FROM m)`,
      [tenantId, ...points.flatMap((p) => [p.type, p.value]), tenantId],
    );
    const matched = rows.flatMap((r) => r.matched);
    if (rows.every((r) => r.merged_into_id === null)) return { owners: rows, matched };
    // Defensive: resolve merged owners to their survivors (a chain, bounded).
    const owners = new Map<string, ContactRow & WithPersonalCard>();
    for (const r of rows) {
      let cur: (ContactRow & Partial<WithPersonalCard>) | undefined = r;
      for (let hops = 0; cur && cur.merged_into_id !== null && hops < 10; hops += 1) cur = await loadContact(em, tenantId, cur.merged_into_id);
      if (cur && cur.merged_into_id === null) owners.set(cur.id, { ...cur, personal_card: cur.personal_card ?? (await personalCard(em, tenantId, cur.id)) });
    }
    const resolved = matched.map((m) => ({ ...m, contact_id: rows.find((r) => r.id === m.contact_id)?.merged_into_id ?? m.contact_id }));
    return { owners: [...owners.values()], matched: resolved.filter((m) => owners.has(m.contact_id)) };
  }

  /** Inserts points for a contact, skipping any already owned; returns the ids inserted. */
  private async insertPoints(em: EntityManager, tenantId: string, contact: string, points: PreparedPoint[], provenance: { kind: ProvenanceName; ref: string | null }): Promise<{ id: string; type: string; value: string }[]> {
    if (!points.length) return [];
    const now = new Date();
    const rows = points.map((p) => ({ id: uuidv7(), type: p.type, value: p.value, network: p.network, digits: p.digits, verification: p.verified ? 'verified' : 'unverified' }));
    return em.execute<{ id: string; type: string; value: string }[]>(
      `INSERT INTO contact_points (id, tenant_id, contact_id, type, value, network, digits, verification, verified_by, provenance_kind, provenance_ref, created_at)
       SELECT x.id, ?, ?, x.type, x.value, x.network, x.digits, x.verification, NULL, ?, ?, ?
         FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, type text, value text, network text, digits text, verification text)
       ON CONFLICT (tenant_id, type, value) DO NOTHING
       RETURNING id, type, value`,
      [tenantId, contact, provenance.kind, provenance.ref, now, JSON.stringify(rows)],
    );
  }

  // ---- read ----------------------------------------------------------------------------------------------

  /** Another tenant's contact is NOT_FOUND, exactly like a missing one. A merged contact is returned with merged_into_id. */
  async get(tenantId: string, rawId: string): Promise<Contact> {
    const id = contactId(rawId);
    const row = await loadContact(this.orm.em.fork(), tenantId, id);
    if (!row) throw new NotFoundError('contact', id);
    return contactMessage(row);
  }

  /** The owner of one point (screen pop): one statement on the unique index. */
  async lookup(tenantId: string, req: LookupContactRequest): Promise<LookupContactResponse> {
    const country = prepareCountry(req.defaultCountry, this.defaultCountry);
    if (!req.point) throw new ValidationError('point is required', [{ field: 'point', message: 'is required' }]);
    const violations: { field: string; message: string }[] = [];
    const p = preparePoint(req.point, country, 'point', violations);
    if (!p) throw new ValidationError('invalid point', violations);
    const [row] = await this.orm.em
      .fork()
      .execute<(ContactRow & WithPersonalCard)[]>(`SELECT ${CONTACT_COLUMNS}, ${PERSONAL_CARD_COLUMN} FROM contact_points lp JOIN contacts c ON c.id = lp.contact_id WHERE lp.tenant_id = ? AND lp.type = ? AND lp.value = ?`, [tenantId, p.type, p.value]);
    if (!row) throw new DomainError('NOT_FOUND', `no contact has ${p.value}`, { details: { entity: 'contact point', id: p.value } });
    return { contact: contactMessage(row), ...personalCardOf(row) };
  }

  /**
   * Newest first, keyset on (created_at desc, id desc), merged contacts left out. With a query: a UNION of
   * one subquery per kind, each ordered and limited to the page, so every branch can use its index and stop
   * early: text (name trigram key OR e-mail/handle trigram on contacts.search_points, one statement on
   * contacts — no join of every matching point before the sort), phone digits trigram, exact phone.
   * The name is checked exactly with strpos, not a second LIKE: two LIKE estimates multiplied made the planner
   * underestimate common fragments and take a bitmap scan of all their rows.
   */
  async list(tenantId: string, req: ListContactsRequest): Promise<{ contacts: Contact[]; nextCursor: string }> {
    const size = pageSize(req.pageSize);
    const after = req.cursor ? decodeKeyset(CONTACTS_LIST, req.cursor, TS_KEY_RE) : undefined;
    const companyId = optionalId(req.companyId, 'company_id');
    const q = parseSearch(req.query, this.defaultCountry);
    const em = this.orm.em.fork();

    const common = (alias: string): { sql: string; params: unknown[] } => {
      const parts = [`${alias}.merged_into_id IS NULL`];
      const params: unknown[] = [];
      if (companyId !== null) {
        parts.push(`${alias}.company_id = ?`);
        params.push(companyId);
      }
      if (after) {
        parts.push(`(${alias}.created_at, ${alias}.id) < (?::timestamptz, ?::uuid)`);
        params.push(after.key, after.id);
      }
      return { sql: parts.join(' AND '), params };
    };

    let sql: string;
    let params: unknown[];
    if (q === null) {
      const w = common('c');
      sql = `SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.tenant_id = ? AND ${w.sql} ORDER BY c.created_at DESC, c.id DESC LIMIT ?`;
      params = [tenantId, ...w.params, size + 1];
    } else {
      const branches: string[] = [];
      params = [];
      const order = `ORDER BY c.created_at DESC, c.id DESC LIMIT ${size + 1}`;
      // Names and e-mails / handles for text queries; a phone-like query is searched in phones (src/domain/search.ts).
      const text: string[] = [];
      const textParams: unknown[] = [];
      if (q.name && !q.digits.length && q.phone === null) {
        text.push('(c.search_key LIKE ? AND strpos(c.search_name, ?) > 0)');
        textParams.push(likeContains(q.key), q.name);
      }
      if (q.value) {
        text.push('c.search_points LIKE ?');
        textParams.push(likeContains(q.value));
      }
      if (text.length) {
        const w = common('c');
        branches.push(`(SELECT c.id, c.created_at FROM contacts c WHERE c.tenant_id = ? AND (${text.join(' OR ')}) AND ${w.sql} ${order})`);
        params.push(tenantId, ...textParams, ...w.params);
      }
      const viaPoints = (cond: string, condParams: unknown[]) => {
        const w = common('c');
        branches.push(`(SELECT c.id, c.created_at FROM contact_points p JOIN contacts c ON c.id = p.contact_id WHERE p.tenant_id = ? AND ${cond} AND ${w.sql} ${order})`);
        params.push(tenantId, ...condParams, ...w.params);
      };
      if (q.phone) viaPoints(`p.type = 'phone' AND p.value = ?`, [q.phone]);
      if (q.digits.length) viaPoints(`p.digits IS NOT NULL AND (${q.digits.map(() => 'p.digits LIKE ?').join(' OR ')})`, q.digits.map(likeContains));
      if (!branches.length) return { contacts: [], nextCursor: '' };
      sql = `WITH hit AS (${branches.join(' UNION ')})
             SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.id IN (SELECT id FROM hit ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY c.created_at DESC, c.id DESC`;
      params.push(size + 1);
    }
    const rows = await em.execute<ContactRow[]>(sql, params);
    const { items, nextCursor } = page(rows, size, CONTACTS_LIST, (r) => ({ key: r.created_key!, id: r.id }));
    return { contacts: items.map(contactMessage), nextCursor };
  }

  // ---- change ------------------------------------------------------------------------------------------

  async update(caller: Caller, req: UpdateContactRequest): Promise<Contact> {
    const id = contactId(req.id);
    if (req.name === undefined && req.companyId === undefined) throw new ValidationError('nothing to change', [{ field: 'name', message: 'give name and/or company_id' }]);
    const name = req.name === undefined ? undefined : contactName(req.name);
    const companyId = req.companyId === undefined ? undefined : optionalId(req.companyId, 'company_id');
    if (!Number.isInteger(req.expectedVersion) || req.expectedVersion < 0) throw new ValidationError('invalid expected_version', [{ field: 'expected_version', message: 'must be 0 or a positive version' }]);
    return withRetry(() => this.orm.em.fork().transactional(async (em) => {
      if (companyId) await this.requireCompany(em, caller.tenantId, companyId);
      const sets = ['version = version + 1', 'updated_at = ?'];
      const params: unknown[] = [new Date()];
      if (name !== undefined) {
        sets.push('name = ?', 'search_name = ?');
        params.push(name, searchName(name));
      }
      if (companyId !== undefined) {
        sets.push('company_id = ?');
        params.push(companyId);
      }
      params.push(caller.tenantId, id, req.expectedVersion, req.expectedVersion);
      const ok = await em.execute(`UPDATE contacts SET ${sets.join(', ')} WHERE tenant_id = ? AND id = ? AND merged_into_id IS NULL AND (? = 0 OR version = ?) RETURNING id`, params);
      if (!ok.length) await this.explainMiss(em, caller.tenantId, id, req.expectedVersion);
      const row = (await loadContact(em, caller.tenantId, id))!;
      publishUpdated(em, row, name !== undefined ? 'name' : 'company');
      return contactMessage(row);
    }));
  }

  /** Why a guarded UPDATE of a contact touched nothing: missing, merged or stale. Always throws. */
  private async explainMiss(em: EntityManager, tenantId: string, id: string, expectedVersion = 0): Promise<never> {
    const [cur] = await em.execute<{ version: number; merged_into_id: string | null }[]>('SELECT version, merged_into_id FROM contacts WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    if (!cur) throw new NotFoundError('contact', id);
    if (cur.merged_into_id) throw contactMerged(id, cur.merged_into_id);
    if (expectedVersion && cur.version !== expectedVersion) {
      throw new DomainError('FAILED_PRECONDITION', `contact ${id} is at version ${cur.version}, not ${expectedVersion}`, {
        details: { reason: 'version_mismatch', public: { current_version: String(cur.version) } },
      });
    }
    throw new Retry('contact changed concurrently');
  }

  /** Bumps the version of a contact that the caller may change; explains (throws) when it cannot. */
  private async touch(em: EntityManager, tenantId: string, id: string): Promise<void> {
    const ok = await em.execute('UPDATE contacts SET version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ? AND merged_into_id IS NULL RETURNING id', [new Date(), tenantId, id]);
    if (!ok.length) await this.explainMiss(em, tenantId, id);
  }

  async addPoint(caller: Caller, req: AddContactPointRequest): Promise<Contact> {
    const id = contactId(req.contactId, 'contact_id');
    const country = prepareCountry(req.defaultCountry, this.defaultCountry);
    if (!req.point) throw new ValidationError('point is required', [{ field: 'point', message: 'is required' }]);
    const violations: { field: string; message: string }[] = [];
    const point = preparePoint(req.point, country, 'point', violations);
    if (!point) throw new ValidationError('invalid point', violations);
    return withRetry(() =>
      this.orm.em.fork().transactional(async (em) => {
        // Exists, is the caller's and not merged: checked before the insert (whose foreign key would otherwise fail).
        const [cur] = await em.execute<{ merged_into_id: string | null; n: number }[]>(
          'SELECT merged_into_id, (SELECT count(*)::int FROM contact_points p WHERE p.contact_id = c.id) AS n FROM contacts c WHERE tenant_id = ? AND id = ?',
          [caller.tenantId, id],
        );
        if (!cur) throw new NotFoundError('contact', id);
        if (cur.merged_into_id) throw contactMerged(id, cur.merged_into_id);
        const added = await this.insertPoints(em, caller.tenantId, id, [point], { kind: 'user', ref: caller.callerId || null });
        if (!added.length) {
          const owner = (await this.ownersOf(em, caller.tenantId, [point])).get(pointKey(point));
          if (!owner) throw new Retry('the owner of a point went away');
          if (owner === id) return contactMessage((await loadContact(em, caller.tenantId, id))!); // already there: nothing changes
          throw pointOwned(owner, 'point.value', point.value);
        }
        if (cur.n + 1 > POINTS_MAX) throw new DomainError('FAILED_PRECONDITION', `a contact has at most ${POINTS_MAX} points`, { details: { reason: 'too_many_points' } });
        await this.touch(em, caller.tenantId, id);
        const row = (await loadContact(em, caller.tenantId, id))!;
        await this.recordSimilar(em, row, [point]);
        publishUpdated(em, row, 'point_added');
        return contactMessage(row);
      }),
    );
  }

  async removePoint(caller: Caller, req: RemoveContactPointRequest): Promise<Contact> {
    const id = contactId(req.contactId, 'contact_id');
    const pointId = contactId(req.pointId, 'point_id');
    return withRetry(() => this.orm.em.fork().transactional(async (em) => {
      const gone = await em.execute('DELETE FROM contact_points WHERE tenant_id = ? AND contact_id = ? AND id = ? RETURNING id', [caller.tenantId, id, pointId]);
      if (!gone.length) {
        const [cur] = await em.execute<{ id: string }[]>('SELECT id FROM contacts WHERE tenant_id = ? AND id = ?', [caller.tenantId, id]);
        throw cur ? new NotFoundError('contact point', pointId) : new NotFoundError('contact', id);
      }
      await this.touch(em, caller.tenantId, id);
      const row = (await loadContact(em, caller.tenantId, id))!;
      publishUpdated(em, row, 'point_removed');
      return contactMessage(row);
    }));
  }

  async setVerification(caller: Caller, req: SetPointVerificationRequest): Promise<Contact> {
    const id = contactId(req.contactId, 'contact_id');
    const pointId = contactId(req.pointId, 'point_id');
    const level = req.verification === Verification.VERIFICATION_VERIFIED ? 'verified' : req.verification === Verification.VERIFICATION_UNVERIFIED ? 'unverified' : null;
    if (level === null) throw new ValidationError('invalid verification', [{ field: 'verification', message: 'must be verified or unverified' }]);
    return withRetry(() => this.orm.em.fork().transactional(async (em) => {
      const hit = await em.execute('UPDATE contact_points SET verification = ?, verified_by = ? WHERE tenant_id = ? AND contact_id = ? AND id = ? RETURNING id', [
        level,
        caller.callerId || null,
        caller.tenantId,
        id,
        pointId,
      ]);
      if (!hit.length) {
        const [cur] = await em.execute<{ id: string }[]>('SELECT id FROM contacts WHERE tenant_id = ? AND id = ?', [caller.tenantId, id]);
        throw cur ? new NotFoundError('contact point', pointId) : new NotFoundError('contact', id);
      }
      await this.touch(em, caller.tenantId, id);
      const row = (await loadContact(em, caller.tenantId, id))!;
      publishUpdated(em, row, 'point_verification');
      return contactMessage(row);
    }));
  }

  // ---- duplicates ----------------------------------------------------------------------------------------

  async listDuplicates(tenantId: string, req: { status: string; pageSize: number; cursor: string }): Promise<{ duplicates: Duplicate[]; nextCursor: string }> {
    const status = req.status.trim() || 'open';
    if (!['open', 'dismissed', 'merged'].includes(status)) throw new ValidationError('invalid status', [{ field: 'status', message: 'must be open, dismissed or merged' }]);
    const size = pageSize(req.pageSize);
    const after = req.cursor ? decodeKeyset(`${DUPLICATES_LIST}:${status}`, req.cursor, TS_KEY_RE) : undefined;
    const em = this.orm.em.fork();
    const params: unknown[] = [tenantId, status];
    let keyset = '';
    if (after) {
      keyset = 'AND (created_at, id) < (?::timestamptz, ?::uuid)';
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const rows = await em.execute<DuplicateRow[]>(
      `SELECT id, first_id, second_id, reason, status, created_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key
         FROM duplicates WHERE tenant_id = ? AND status = ? ${keyset} ORDER BY created_at DESC, id DESC LIMIT ?`,
      params,
    );
    const { items, nextCursor } = page(rows, size, `${DUPLICATES_LIST}:${status}`, (r) => ({ key: r.created_key, id: r.id }));
    return { duplicates: await this.duplicateMessages(em, tenantId, items), nextCursor };
  }

  private async duplicateMessages(em: EntityManager, tenantId: string, rows: DuplicateRow[]): Promise<Duplicate[]> {
    const contacts = new Map((await loadContacts(em, tenantId, [...new Set(rows.flatMap((r) => [r.first_id, r.second_id]))])).map((c) => [c.id, contactMessage(c)]));
    return rows.map((r) => ({ id: r.id, first: contacts.get(r.first_id), second: contacts.get(r.second_id), reason: r.reason, status: r.status, createdAt: iso(r.created_at) }));
  }

  /** Marks an open duplicate as not one; dismissing a dismissed one again answers it unchanged. */
  async dismissDuplicate(caller: Caller, rawId: string): Promise<Duplicate> {
    const id = contactId(rawId, 'id');
    const em = this.orm.em.fork();
    return em.transactional(async (tx) => {
      await tx.execute(`UPDATE duplicates SET status = 'dismissed', resolved_at = ?, resolved_by = ? WHERE tenant_id = ? AND id = ? AND status = 'open'`, [
        new Date(),
        caller.callerId || null,
        caller.tenantId,
        id,
      ]);
      const [row] = await tx.execute<DuplicateRow[]>(`SELECT id, first_id, second_id, reason, status, created_at, '' AS created_key FROM duplicates WHERE tenant_id = ? AND id = ?`, [caller.tenantId, id]);
      if (!row) throw new NotFoundError('duplicate', id);
      if (row.status === 'merged') throw new DomainError('FAILED_PRECONDITION', `duplicate ${id} was merged; undo the merge instead`, { details: { reason: 'duplicate_merged' } });
      return (await this.duplicateMessages(tx, caller.tenantId, [row]))[0];
    });
  }
}

interface DuplicateRow {
  id: string;
  first_id: string;
  second_id: string;
  reason: string;
  status: string;
  created_at: string | Date;
  created_key: string;
}
