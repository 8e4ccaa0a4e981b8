import type { TimelineEntry } from '@crm/contracts/crm/contacts/v1/contacts';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { NotFoundError, ValidationError } from '@crm/errors';
import { uuidArg } from './cards/ids';
import { decodeKeyset, page, pageSize, TS_KEY_RE, tsKeySql } from './cards/keyset';

/**
 * The communication timeline (журнал общения) as read: one feed per contact or per client card, newest
 * first, keyset-paginated on (occurred_at desc, id desc) over the partial indexes
 * timeline_entries_contact_idx / timeline_entries_card_idx. The entries are written by the consumers
 * (src/kafka/*.consumer.ts); H1's GetTimeline calls listTimeline.
 */
export interface TimelineQuery {
  /** Exactly one of contactId and clientCardId. */
  contactId?: string;
  clientCardId?: string;
  /** 0 / absent → 25; 1..100. */
  pageSize?: number;
  cursor?: string;
}

export interface TimelinePage {
  entries: TimelineEntry[];
  nextCursor: string;
}

interface EntryRow {
  id: string;
  contact_id: string | null;
  client_card_id: string | null;
  occurred_at: Date;
  occurred_key: string;
  kind: string;
  ref_type: string;
  ref_id: string;
  summary: string;
  event_type: string;
}

const LIST = 'timeline';

export function timelineEntryMessage(row: EntryRow): TimelineEntry {
  return {
    id: row.id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    kind: row.kind,
    refType: row.ref_type,
    refId: row.ref_id,
    summary: row.summary,
    contactId: row.contact_id ?? '',
    clientCardId: row.client_card_id ?? '',
    eventType: row.event_type,
  };
}

/**
 * A page of the timeline of a contact or a card of `tenantId`. Another tenant's (or a missing) contact or
 * card is NOT_FOUND; neither or both ids, a malformed id or cursor, a page size out of range: INVALID_ARGUMENT.
 */
export async function listTimeline(db: MikroORM | EntityManager, tenantId: string, q: TimelineQuery): Promise<TimelinePage> {
  // Duck-typed: `instanceof MikroORM` fails when two copies of MikroORM are loaded (tests, bundles).
  const em = 'execute' in db && typeof db.execute === 'function' ? (db as EntityManager) : (db as MikroORM).em.fork();
  const hasContact = !!q.contactId;
  const hasCard = !!q.clientCardId;
  if (hasContact === hasCard) {
    throw new ValidationError('give exactly one of contact_id and client_card_id', [
      { field: hasContact ? 'client_card_id' : 'contact_id', message: 'exactly one of contact_id and client_card_id is required' },
    ]);
  }
  const size = pageSize(q.pageSize);
  const after = q.cursor ? decodeKeyset(LIST, q.cursor, TS_KEY_RE) : undefined;
  const column = hasContact ? 'contact_id' : 'client_card_id';
  const id = hasContact ? uuidArg('contact_id', q.contactId) : uuidArg('client_card_id', q.clientCardId);

  const owner = hasContact
    ? await em.execute<{ id: string }[]>('SELECT id FROM contacts WHERE tenant_id = ? AND id = ?', [tenantId, id])
    : await em.execute<{ id: string }[]>('SELECT id FROM client_cards WHERE tenant_id = ? AND id = ?', [tenantId, id]);
  if (!owner.length) throw new NotFoundError(hasContact ? 'contact' : 'client card', id);

  const params: unknown[] = [tenantId, id];
  let keyset = '';
  if (after) {
    keyset = 'AND (occurred_at, id) < (?::timestamptz, ?::uuid)';
    params.push(after.key, after.id);
  }
  params.push(size + 1);
  const rows = await em.execute<EntryRow[]>(
    `SELECT id, contact_id, client_card_id, occurred_at, ${tsKeySql('occurred_at')} AS occurred_key, kind, ref_type, ref_id, summary, event_type
       FROM timeline_entries
      WHERE tenant_id = ? AND ${column} = ? ${keyset}
      ORDER BY occurred_at DESC, id DESC
      LIMIT ?`,
    params,
  );
  const { items, nextCursor } = page(rows, size, LIST, (r) => ({ key: r.occurred_key, id: r.id }));
  return { entries: items.map(timelineEntryMessage), nextCursor };
}

/** One entry as the consumers write it. */
export interface NewEntry {
  tenantId: string;
  contactId?: string | null;
  clientCardId?: string | null;
  occurredAt: Date;
  kind: string;
  refType: string;
  refId: string;
  summary: string;
  eventType: string;
  /** The event's ce_id, plus a suffix (`:card`, …) when one event makes several entries. */
  sourceEventId: string;
}

export const SUMMARY_MAX = 500;

/** Inserts an entry unless one with its source_event_id exists (a redelivery or a replay): true when written. */
export async function addTimelineEntry(em: EntityManager, e: NewEntry): Promise<boolean> {
  if (!e.contactId && !e.clientCardId) return false;
  const rows = await em.execute<{ id: string }[]>(
    `INSERT INTO timeline_entries (id, tenant_id, contact_id, client_card_id, occurred_at, kind, ref_type, ref_id, summary, event_type, source_event_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant_id, source_event_id) DO NOTHING RETURNING id`,
    [uuidv7(), e.tenantId, e.contactId ?? null, e.clientCardId ?? null, e.occurredAt, e.kind, e.refType, e.refId, e.summary.slice(0, SUMMARY_MAX), e.eventType, e.sourceEventId],
  );
  return rows.length > 0;
}

/**
 * The usual pair: the entry on the contact (source ce_id) and the same on the card (ce_id + `:card`);
 * either may be absent (a company's card has no contact, a contact without a card).
 */
export async function addContactAndCardEntries(em: EntityManager, e: Omit<NewEntry, 'contactId' | 'clientCardId'>, contactId: string | null, cardId: string | null): Promise<void> {
  if (contactId) await addTimelineEntry(em, { ...e, contactId, clientCardId: null });
  if (cardId) await addTimelineEntry(em, { ...e, contactId: null, clientCardId: cardId, sourceEventId: `${e.sourceEventId}:card` });
}
