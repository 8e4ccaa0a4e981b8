/**
 * The writes every path to a client card shares (the gRPC service, the consumers): lock, change, history
 * row and ClientCardChanged event, always in the caller's transaction. Raw SQL over client_cards.
 */
import { ClientCardChanged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import type { ClientCard, ClientCardChange } from '@crm/contracts/crm/contacts/v1/cards';
import { uuidv7, type EntityManager } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { assertTransition, eventTarget, type EVENT_MOVES } from '../domain/card-state';
import { CARD_CHANGED, CARD_TOPIC, EVENT_SOURCE } from '../events';
import { cardMessage, type Actor, type CardExtras, type CardRow, type CardState } from './personal-card';

export const CARD_COLUMNS = 'id, tenant_id, contact_id, company_id, state, kind, owner_id, agent_card_id, version, created_at, updated_at';
/** The same columns qualified by an alias (joins). */
export const cardColumns = (alias: string): string =>
  CARD_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

export interface HistoryRow {
  id: string;
  field: string;
  from_value: string | null;
  to_value: string | null;
  reason: string | null;
  actor_kind: Actor['kind'];
  actor_ref: string | null;
  at: Date;
}

export function changeMessage(h: HistoryRow): ClientCardChange {
  return {
    id: h.id,
    at: new Date(h.at).toISOString(),
    field: h.field,
    fromValue: h.from_value ?? '',
    toValue: h.to_value ?? '',
    reason: h.reason ?? '',
    actorKind: h.actor_kind,
    actorRef: h.actor_ref ?? '',
  };
}

/** The card of the tenant, locked for the rest of the transaction; another tenant's card is NOT_FOUND. */
export async function lockCard(em: EntityManager, tenantId: string, id: string): Promise<CardRow> {
  const rows = await em.execute<CardRow[]>(`SELECT ${CARD_COLUMNS} FROM client_cards WHERE tenant_id = ? AND id = ? FOR UPDATE`, [tenantId, id]);
  if (!rows.length) throw new NotFoundError('client card', id);
  return rows[0]!;
}

/** FAILED_PRECONDITION `stale_version` when expected (non-zero) is not the card's version. */
export function checkVersion(entity: string, current: number, expected: number | undefined): void {
  if (!expected || expected === current) return;
  throw new DomainError('FAILED_PRECONDITION', `the ${entity} was changed meanwhile (version ${current}, expected ${expected}): reload it and try again`, {
    details: { reason: 'stale_version', currentVersion: current, expectedVersion: expected, public: { current_version: String(current) } },
  });
}

/** Display names and deal counts of cards, in two queries whatever the number of cards. */
export async function cardExtras(em: EntityManager, tenantId: string, cards: CardRow[]): Promise<Map<string, CardExtras>> {
  const out = new Map<string, CardExtras>(cards.map((c) => [c.id, {}]));
  if (!cards.length) return out;
  const ids = `{${cards.map((c) => c.id).join(',')}}`;
  const names = await em.execute<{ id: string; name: string | null }[]>(
    `SELECT cc.id, COALESCE(ct.name, co.name) AS name
       FROM client_cards cc
       LEFT JOIN contacts ct ON ct.id = cc.contact_id AND ct.tenant_id = cc.tenant_id
       LEFT JOIN companies co ON co.id = cc.company_id AND co.tenant_id = cc.tenant_id
      WHERE cc.tenant_id = ? AND cc.id = ANY(?::uuid[])`,
    [tenantId, ids],
  );
  for (const n of names) out.get(n.id)!.displayName = n.name ?? '';
  const deals = await em.execute<{ client_card_id: string; status: 'open' | 'won' | 'lost'; n: number }[]>(
    `SELECT client_card_id, status, count(*)::int AS n FROM deal_links
      WHERE tenant_id = ? AND client_card_id = ANY(?::uuid[]) GROUP BY client_card_id, status`,
    [tenantId, ids],
  );
  for (const d of deals) {
    const e = out.get(d.client_card_id)!;
    if (d.status === 'open') e.openDeals = d.n;
    else if (d.status === 'won') e.wonDeals = d.n;
    else e.lostDeals = d.n;
  }
  return out;
}

export async function cardWithExtras(em: EntityManager, tenantId: string, card: CardRow): Promise<ClientCard> {
  return cardMessage(card, (await cardExtras(em, tenantId, [card])).get(card.id));
}

export interface FieldChange {
  field: 'state' | 'owner' | 'kind' | 'agent';
  from: string | null;
  to: string | null;
  reason?: string | null;
}

/**
 * Records changes already applied to `card` (the row as it is now): one history row and one
 * ClientCardChanged event per field, in the caller's transaction.
 */
export async function recordChanges(em: EntityManager, card: CardRow, changes: FieldChange[], actor: Actor, at: Date): Promise<void> {
  if (!changes.length) return;
  const message = await cardWithExtras(em, card.tenant_id, card);
  for (const c of changes) {
    const h: HistoryRow = { id: uuidv7(), field: c.field, from_value: c.from, to_value: c.to, reason: c.reason ?? null, actor_kind: actor.kind, actor_ref: actor.ref, at };
    await em.execute(
      `INSERT INTO client_card_history (id, tenant_id, card_id, field, from_value, to_value, reason, actor_kind, actor_ref, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [h.id, card.tenant_id, card.id, h.field, h.from_value, h.to_value, h.reason, h.actor_kind, h.actor_ref, at],
    );
    enqueueEvent(em, {
      topic: CARD_TOPIC,
      type: CARD_CHANGED,
      codec: ClientCardChanged,
      payload: { card: message, change: changeMessage(h) },
      subject: card.id,
      tenantId: card.tenant_id,
      source: EVENT_SOURCE,
    });
  }
}

/** Moves a locked card to `to` (the lifecycle table checked for the actor), with its history row and event. */
export async function setState(em: EntityManager, card: CardRow, to: CardState, actor: Actor, reason: string | null): Promise<CardRow> {
  assertTransition(card.state, to, actor.kind);
  const now = new Date();
  await em.execute('UPDATE client_cards SET state = ?, version = version + 1, updated_at = ? WHERE id = ?', [to, now, card.id]);
  const after: CardRow = { ...card, state: to, version: card.version + 1, updated_at: now };
  await recordChanges(em, after, [{ field: 'state', from: card.state, to, reason }], actor, now);
  return after;
}

/**
 * What an event does to a card: locks it and moves it when the lifecycle says the event moves a card in
 * its state (a lead: not_client → potential; a deal won: → active); otherwise leaves it. Returns the
 * card as it is afterwards, or null when the tenant has no such card.
 */
export async function moveByEvent(em: EntityManager, tenantId: string, cardId: string, move: keyof typeof EVENT_MOVES, eventType: string, reason: string): Promise<CardRow | null> {
  const rows = await em.execute<CardRow[]>(`SELECT ${CARD_COLUMNS} FROM client_cards WHERE tenant_id = ? AND id = ? FOR UPDATE`, [tenantId, cardId]);
  const card = rows[0];
  if (!card) return null;
  const to = eventTarget(card.state, move);
  if (!to) return card;
  return setState(em, card, to, { kind: 'event', ref: eventType }, reason);
}

/** The card a contact's events land on: its oldest card (the personal one made with it); null when none. */
export async function personalCardId(em: EntityManager, tenantId: string, contactId: string): Promise<string | null> {
  const rows = await em.execute<{ id: string }[]>(
    'SELECT id FROM client_cards WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at, id LIMIT 1',
    [tenantId, contactId],
  );
  return rows[0]?.id ?? null;
}

/**
 * The live contact an id stands for: itself, or the survivor at the end of its merged_into chain (at most
 * 20 hops); null when the tenant has no such contact.
 */
export async function liveContactId(em: EntityManager, tenantId: string, contactId: string): Promise<string | null> {
  const rows = await em.execute<{ id: string }[]>(
    `WITH RECURSIVE chain (id, merged_into_id, depth) AS (
       SELECT id, merged_into_id, 0 FROM contacts WHERE tenant_id = ? AND id = ?
       UNION ALL
       SELECT c.id, c.merged_into_id, chain.depth + 1 FROM contacts c JOIN chain ON c.id = chain.merged_into_id
        WHERE c.tenant_id = ? AND chain.depth < 20
     )
     SELECT id FROM chain WHERE merged_into_id IS NULL LIMIT 1`,
    [tenantId, contactId, tenantId],
  );
  return rows[0]?.id ?? null;
}

/** The time a UUIDv7 was made (its first 48 bits), or null for another kind of id. */
export function uuidv7Time(id: string): Date | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return null;
  const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** An RFC 3339 time from an event's payload, or `fallback` when it is empty or not a time. */
export function eventTime(raw: string | undefined, fallback: string): Date {
  const t = raw ? Date.parse(raw) : NaN;
  if (!Number.isNaN(t)) return new Date(t);
  const f = Date.parse(fallback);
  return Number.isNaN(f) ? new Date() : new Date(f);
}
