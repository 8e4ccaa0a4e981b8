/**
 * Merge of two contacts and its undo. A merge runs in one transaction: both contacts locked (FOR UPDATE,
 * in id order), everything of the loser that moves is recorded in merges.snapshot, then moved to the
 * survivor; the loser stays with merged_into_id set. Undo restores from the snapshot.
 *
 * What moves: contact points, client cards (contact_id), request links, deal links' contact arrays,
 * timeline entries of the contact, company memberships (company_contacts); the survivor's empty name and
 * company are filled from the loser; the pair's open duplicate becomes `merged`.
 * Undo puts every one of those back (the survivor's name and company as they were, deal arrays as they
 * were), plus the timeline entries that arrived after the merge for the loser's requests; versions go up
 * (they are optimistic-concurrency counters, never restored backwards).
 */
import { ContactMerged, ContactMergeUndone } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import type { Contact, Merge } from '@crm/contracts/crm/contacts/v1/contacts';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { contactMessage, iso, loadContact } from './contacts.sql';
import { withRetry, type Caller } from './contacts.service';
import { contactId } from './domain/contact';
import { orderedPair } from './domain/match';
import { CONTACT_MERGE_UNDONE, CONTACT_MERGED, CONTACT_TOPIC, EVENT_SOURCE } from './events';

/** merges.snapshot: what undo needs, taken before anything moved. */
export interface MergeSnapshot {
  v: 1;
  /** The loser's and the survivor's contacts rows before (name, company, …). */
  loser: ContactFields;
  survivor: ContactFields;
  pointIds: string[];
  cardIds: string[];
  requestIds: string[];
  /** deal id → contact_ids before. */
  deals: Record<string, string[]>;
  timelineIds: string[];
  /** The loser's company memberships; `added` is true when the merge created the survivor's row. */
  companies: { company_id: string; role: string; created_at: string; added: boolean }[];
  /** The pair's duplicates as they were. */
  duplicates: { id: string; status: string; resolved_at: string | null; resolved_by: string | null }[];
}

interface ContactFields {
  id: string;
  name: string | null;
  search_name: string | null;
  company_id: string | null;
  version: number;
  updated_at: string;
}

interface MergeRow {
  id: string;
  tenant_id: string;
  survivor_id: string;
  loser_id: string;
  merged_by: string;
  snapshot: MergeSnapshot;
  points_moved: number;
  cards_moved: number;
  requests_moved: number;
  timeline_entries_moved: number;
  created_at: string | Date;
  undone_at: string | Date | null;
  undone_by: string | null;
}

const MERGE_COLUMNS = 'id, tenant_id, survivor_id, loser_id, merged_by, snapshot, points_moved, cards_moved, requests_moved, timeline_entries_moved, created_at, undone_at, undone_by';

export function mergeMessage(r: MergeRow): Merge {
  return {
    id: r.id,
    survivorId: r.survivor_id,
    loserId: r.loser_id,
    mergedBy: r.merged_by,
    createdAt: iso(r.created_at),
    undoneAt: r.undone_at ? iso(r.undone_at) : '',
    undoneBy: r.undone_by ?? '',
    pointsMoved: r.points_moved,
    cardsMoved: r.cards_moved,
    requestsMoved: r.requests_moved,
    timelineEntriesMoved: r.timeline_entries_moved,
  };
}

const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id);

export class MergeService {
  constructor(private readonly orm: MikroORM) {}

  /** Locks both contacts in id order; NOT_FOUND for a missing (or another tenant's) one. */
  private async lockPair(em: EntityManager, tenantId: string, a: string, b: string, fields: [string, string]): Promise<Map<string, ContactFields & { merged_into_id: string | null }>> {
    const rows = await em.execute<(ContactFields & { merged_into_id: string | null })[]>(
      `SELECT id, name, search_name, company_id, merged_into_id, version, updated_at FROM contacts WHERE tenant_id = ? AND id IN (?, ?) ORDER BY id FOR UPDATE`,
      [tenantId, ...orderedPair(a, b)],
    );
    const byId = new Map(rows.map((r) => [r.id, { ...r, updated_at: iso(r.updated_at) }]));
    [a, b].forEach((id, i) => {
      if (!byId.has(id)) throw Object.assign(new NotFoundError('contact', id), { violations: [{ field: fields[i], message: 'not found' }] });
    });
    return byId;
  }

  async merge(caller: Caller, req: { survivorId: string; loserId: string }): Promise<{ merge: Merge; survivor: Contact }> {
    const survivorId = contactId(req.survivorId, 'survivor_id');
    const loserId = contactId(req.loserId, 'loser_id');
    if (survivorId === loserId) {
      throw new DomainError('INVALID_ARGUMENT', 'a contact cannot be merged with itself', { details: { reason: 'merge_self' }, violations: [{ field: 'loser_id', message: 'must differ from survivor_id' }] });
    }
    const { tenantId } = caller;
    return withRetry(() =>
      this.orm.em.fork().transactional(async (em) => {
        const pair = await this.lockPair(em, tenantId, survivorId, loserId, ['survivor_id', 'loser_id']);
        const survivor = pair.get(survivorId)!;
        const loser = pair.get(loserId)!;
        for (const c of [survivor, loser]) {
          if (c.merged_into_id) {
            throw new DomainError('FAILED_PRECONDITION', `contact ${c.id} is already merged into ${c.merged_into_id}`, {
              details: { reason: 'contact_merged', public: { merged_into_id: c.merged_into_id } },
            });
          }
        }
        const now = new Date();
        const [first, second] = orderedPair(survivorId, loserId);

        // Snapshot, then move; each statement scoped by tenant.
        const pointIds = ids(await em.execute<{ id: string }[]>('UPDATE contact_points SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? RETURNING id', [survivorId, tenantId, loserId]));
        const cardIds = ids(await em.execute<{ id: string }[]>('UPDATE client_cards SET contact_id = ?, updated_at = ? WHERE tenant_id = ? AND contact_id = ? RETURNING id', [survivorId, now, tenantId, loserId]));
        const requestIds = (
          await em.execute<{ request_id: string }[]>('UPDATE request_links SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? RETURNING request_id', [survivorId, tenantId, loserId])
        ).map((r) => r.request_id);
        const dealRows = await em.execute<{ deal_id: string; contact_ids: string[] | string }[]>(
          `SELECT deal_id, contact_ids::text[] AS contact_ids FROM deal_links WHERE tenant_id = ? AND contact_ids @> ARRAY[?]::uuid[] FOR UPDATE`,
          [tenantId, loserId],
        );
        const deals: Record<string, string[]> = {};
        for (const d of dealRows) deals[d.deal_id] = parsePgArray(d.contact_ids);
        if (dealRows.length) {
          await em.execute(
            `UPDATE deal_links SET contact_ids = ARRAY(SELECT DISTINCT unnest(array_replace(contact_ids, ?::uuid, ?::uuid)))
              WHERE tenant_id = ? AND deal_id IN (?)`,
            [loserId, survivorId, tenantId, Object.keys(deals)],
          );
        }
        const timelineIds = ids(await em.execute<{ id: string }[]>('UPDATE timeline_entries SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? RETURNING id', [survivorId, tenantId, loserId]));
        const memberships = await em.execute<{ company_id: string; role: string; created_at: string | Date }[]>(
          'SELECT company_id, role, created_at FROM company_contacts WHERE tenant_id = ? AND contact_id = ? FOR UPDATE',
          [tenantId, loserId],
        );
        const companies: MergeSnapshot['companies'] = [];
        for (const m of memberships) {
          const added = await em.execute(
            `INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (company_id, contact_id) DO NOTHING RETURNING company_id`,
            [tenantId, m.company_id, survivorId, m.role, m.created_at],
          );
          companies.push({ company_id: m.company_id, role: m.role, created_at: iso(m.created_at), added: added.length > 0 });
        }
        if (memberships.length) await em.execute('DELETE FROM company_contacts WHERE tenant_id = ? AND contact_id = ?', [tenantId, loserId]);
        const duplicates = await em.execute<MergeSnapshot['duplicates']>(
          `SELECT id, status, resolved_at, resolved_by FROM duplicates WHERE tenant_id = ? AND first_id = ? AND second_id = ? FOR UPDATE`,
          [tenantId, first, second],
        );
        await em.execute(`UPDATE duplicates SET status = 'merged', resolved_at = ?, resolved_by = ? WHERE tenant_id = ? AND first_id = ? AND second_id = ? AND status = 'open'`, [
          now,
          caller.callerId || null,
          tenantId,
          first,
          second,
        ]);

        // The loser keeps its row (its id keeps resolving); the survivor takes an empty name / company from it.
        await em.execute('UPDATE contacts SET merged_into_id = ?, version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ?', [survivorId, now, tenantId, loserId]);
        await em.execute(
          `UPDATE contacts s SET name = COALESCE(s.name, l.name), search_name = COALESCE(s.search_name, l.search_name), company_id = COALESCE(s.company_id, l.company_id),
                  version = s.version + 1, updated_at = ?
             FROM contacts l WHERE s.tenant_id = ? AND s.id = ? AND l.id = ?`,
          [now, tenantId, survivorId, loserId],
        );

        const snapshot: MergeSnapshot = {
          v: 1,
          loser: strip(loser),
          survivor: strip(survivor),
          pointIds,
          cardIds,
          requestIds,
          deals,
          timelineIds,
          companies,
          duplicates: duplicates.map((d) => ({ ...d, resolved_at: d.resolved_at ? iso(d.resolved_at) : null })),
        };
        const row: MergeRow = {
          id: uuidv7(),
          tenant_id: tenantId,
          survivor_id: survivorId,
          loser_id: loserId,
          merged_by: caller.callerId || 'unknown',
          snapshot,
          points_moved: pointIds.length,
          cards_moved: cardIds.length,
          requests_moved: requestIds.length,
          timeline_entries_moved: timelineIds.length,
          created_at: now,
          undone_at: null,
          undone_by: null,
        };
        await em.execute(
          `INSERT INTO merges (${MERGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, NULL, NULL)`,
          [row.id, tenantId, survivorId, loserId, row.merged_by, JSON.stringify(snapshot), row.points_moved, row.cards_moved, row.requests_moved, row.timeline_entries_moved, now],
        );
        const merge = mergeMessage(row);
        enqueueEvent(em, { topic: CONTACT_TOPIC, type: CONTACT_MERGED, codec: ContactMerged, payload: { merge, requestIds }, subject: survivorId, tenantId, source: EVENT_SOURCE });
        const after = (await loadContact(em, tenantId, survivorId))!;
        return { merge, survivor: contactMessage(after) };
      }),
    );
  }

  async undo(caller: Caller, rawMergeId: string): Promise<{ merge: Merge; survivor: Contact; loser: Contact }> {
    const mergeId = contactId(rawMergeId, 'merge_id');
    const { tenantId } = caller;
    return withRetry(() =>
      this.orm.em.fork().transactional(async (em) => {
        const [row] = await em.execute<MergeRow[]>(`SELECT ${MERGE_COLUMNS} FROM merges WHERE tenant_id = ? AND id = ? FOR UPDATE`, [tenantId, mergeId]);
        if (!row) throw new NotFoundError('merge', mergeId);
        if (row.undone_at) throw new DomainError('FAILED_PRECONDITION', `merge ${mergeId} was already undone`, { details: { reason: 'merge_undone' } });
        const s = row.survivor_id;
        const l = row.loser_id;
        await this.lockPair(em, tenantId, s, l, ['survivor_id', 'loser_id']);
        const [later] = await em.execute<{ id: string }[]>(
          `SELECT id FROM merges WHERE tenant_id = ? AND undone_at IS NULL AND id <> ? AND created_at >= ?
              AND (survivor_id IN (?, ?) OR loser_id IN (?, ?)) ORDER BY created_at LIMIT 1`,
          [tenantId, mergeId, row.created_at, s, l, s, l],
        );
        if (later) {
          throw new DomainError('FAILED_PRECONDITION', `merge ${later.id} came later and involves these contacts; undo it first`, {
            details: { reason: 'merge_superseded', public: { later_merge_id: later.id } },
          });
        }
        const snap = row.snapshot;
        const now = new Date();
        if (snap.pointIds.length) await em.execute('UPDATE contact_points SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? AND id IN (?)', [l, tenantId, s, snap.pointIds]);
        if (snap.cardIds.length) await em.execute('UPDATE client_cards SET contact_id = ?, updated_at = ? WHERE tenant_id = ? AND contact_id = ? AND id IN (?)', [l, now, tenantId, s, snap.cardIds]);
        if (snap.requestIds.length) await em.execute('UPDATE request_links SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? AND request_id IN (?)', [l, tenantId, s, snap.requestIds]);
        for (const [dealId, contactIds] of Object.entries(snap.deals)) {
          await em.execute('UPDATE deal_links SET contact_ids = ?::uuid[] WHERE tenant_id = ? AND deal_id = ?', [toPgArray(contactIds), tenantId, dealId]);
        }
        // The entries moved by the merge, and those that arrived since for the loser's requests.
        const timelineParams: unknown[] = [l, tenantId, s];
        const conds: string[] = [];
        if (snap.timelineIds.length) {
          conds.push('id IN (?)');
          timelineParams.push(snap.timelineIds);
        }
        if (snap.requestIds.length) {
          conds.push(`(ref_type = 'request' AND ref_id IN (?))`);
          timelineParams.push(snap.requestIds);
        }
        if (conds.length) await em.execute(`UPDATE timeline_entries SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? AND (${conds.join(' OR ')})`, timelineParams);
        for (const m of snap.companies) {
          if (m.added) await em.execute('DELETE FROM company_contacts WHERE tenant_id = ? AND company_id = ? AND contact_id = ?', [tenantId, m.company_id, s]);
          await em.execute(
            'INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (company_id, contact_id) DO NOTHING',
            [tenantId, m.company_id, l, m.role, new Date(m.created_at)],
          );
        }
        for (const d of snap.duplicates) {
          await em.execute('UPDATE duplicates SET status = ?, resolved_at = ?, resolved_by = ? WHERE tenant_id = ? AND id = ?', [d.status, d.resolved_at ? new Date(d.resolved_at) : null, d.resolved_by, tenantId, d.id]);
        }
        for (const c of [snap.loser, snap.survivor]) {
          await em.execute('UPDATE contacts SET name = ?, search_name = ?, company_id = ?, merged_into_id = NULL, version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ?', [
            c.name,
            c.search_name,
            c.company_id,
            now,
            tenantId,
            c.id,
          ]);
        }
        await em.execute('UPDATE merges SET undone_at = ?, undone_by = ? WHERE id = ?', [now, caller.callerId || 'unknown', mergeId]);
        const merge = mergeMessage({ ...row, undone_at: now, undone_by: caller.callerId || 'unknown' });
        enqueueEvent(em, { topic: CONTACT_TOPIC, type: CONTACT_MERGE_UNDONE, codec: ContactMergeUndone, payload: { merge, requestIds: snap.requestIds }, subject: s, tenantId, source: EVENT_SOURCE });
        return { merge, survivor: contactMessage((await loadContact(em, tenantId, s))!), loser: contactMessage((await loadContact(em, tenantId, l))!) };
      }),
    );
  }

  /** The merges of a contact (as survivor or loser), newest first. */
  async list(tenantId: string, rawContactId: string): Promise<Merge[]> {
    const id = contactId(rawContactId, 'contact_id');
    const em = this.orm.em.fork();
    const found = await em.execute('SELECT 1 FROM contacts WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    if (!found.length) throw new NotFoundError('contact', id);
    const rows = await em.execute<MergeRow[]>(
      `SELECT ${MERGE_COLUMNS} FROM merges WHERE tenant_id = ? AND survivor_id = ?
       UNION ALL SELECT ${MERGE_COLUMNS} FROM merges WHERE tenant_id = ? AND loser_id = ?
       ORDER BY created_at DESC, id DESC LIMIT 200`,
      [tenantId, id, tenantId, id],
    );
    return rows.map(mergeMessage);
  }
}

function strip(c: ContactFields): ContactFields {
  return { id: c.id, name: c.name, search_name: c.search_name, company_id: c.company_id, version: c.version, updated_at: c.updated_at };
}

/** `{a,b}` (PostgreSQL's text form of an array) or an array → string[]. */
function parsePgArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',') : [];
}

function toPgArray(a: string[]): string {
  return `{${a.join(',')}}`;
}

