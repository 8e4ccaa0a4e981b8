import { ClientCardCreated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { ClientKind, ClientState, type ClientCard } from '@crm/contracts/crm/contacts/v1/cards';
import { uuidv7, type EntityManager } from '@crm/db';
import { enqueueEvent } from '@crm/kafka';
import { CARD_CREATED, CARD_TOPIC, EVENT_SOURCE } from '../events';

export type CardState = 'not_client' | 'potential' | 'active' | 'former';
export type CardKind = 'direct' | 'via_agent' | 'agent_partner';

/** A client_cards row as the services read it (raw SQL, snake_case columns). */
export interface CardRow {
  id: string;
  tenant_id: string;
  contact_id: string | null;
  company_id: string | null;
  state: CardState;
  kind: CardKind;
  owner_id: string | null;
  agent_card_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Who made a change: a user (id), an event (its type) or a rule (its name). */
export interface Actor {
  kind: 'user' | 'event' | 'rule';
  ref: string;
}

const STATE_TO_PROTO: Record<CardState, ClientState> = {
  not_client: ClientState.CLIENT_STATE_NOT_CLIENT,
  potential: ClientState.CLIENT_STATE_POTENTIAL,
  active: ClientState.CLIENT_STATE_ACTIVE,
  former: ClientState.CLIENT_STATE_FORMER,
};
const KIND_TO_PROTO: Record<CardKind, ClientKind> = {
  direct: ClientKind.CLIENT_KIND_DIRECT,
  via_agent: ClientKind.CLIENT_KIND_VIA_AGENT,
  agent_partner: ClientKind.CLIENT_KIND_AGENT_PARTNER,
};

export const cardStateToProto = (s: CardState): ClientState => STATE_TO_PROTO[s];
export const cardKindToProto = (k: CardKind): ClientKind => KIND_TO_PROTO[k];

export interface CardExtras {
  displayName?: string;
  openDeals?: number;
  wonDeals?: number;
  lostDeals?: number;
}

export function cardMessage(row: CardRow, extras: CardExtras = {}): ClientCard {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    contactId: row.contact_id ?? '',
    companyId: row.company_id ?? '',
    state: cardStateToProto(row.state),
    kind: cardKindToProto(row.kind),
    ownerId: row.owner_id ?? '',
    agentCardId: row.agent_card_id ?? '',
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    version: row.version,
    displayName: extras.displayName ?? '',
    openDeals: extras.openDeals ?? 0,
    wonDeals: extras.wonDeals ?? 0,
    lostDeals: extras.lostDeals ?? 0,
  };
}

/**
 * Opens a new contact's own card (`not_client` / `direct`) with its `created` history row and the
 * ClientCardCreated event, inside the caller's transaction (the one that creates the contact).
 */
export async function openPersonalCard(em: EntityManager, tenantId: string, contactId: string, actor: Actor, displayName = ''): Promise<CardRow> {
  const now = new Date();
  const row: CardRow = {
    id: uuidv7(),
    tenant_id: tenantId,
    contact_id: contactId,
    company_id: null,
    state: 'not_client',
    kind: 'direct',
    owner_id: null,
    agent_card_id: null,
    version: 1,
    created_at: now,
    updated_at: now,
  };
  await em.execute(
    `INSERT INTO client_cards (id, tenant_id, contact_id, company_id, state, kind, owner_id, agent_card_id, version, created_at, updated_at)
     VALUES (?, ?, ?, NULL, 'not_client', 'direct', NULL, NULL, 1, ?, ?)`,
    [row.id, tenantId, contactId, now, now],
  );
  await em.execute(
    `INSERT INTO client_card_history (id, tenant_id, card_id, field, from_value, to_value, reason, actor_kind, actor_ref, at)
     VALUES (?, ?, ?, 'created', NULL, 'not_client', NULL, ?, ?, ?)`,
    [uuidv7(), tenantId, row.id, actor.kind, actor.ref, now],
  );
  enqueueEvent(em, {
    topic: CARD_TOPIC,
    type: CARD_CREATED,
    codec: ClientCardCreated,
    payload: { card: cardMessage(row, { displayName }) },
    subject: row.id,
    tenantId,
    source: EVENT_SOURCE,
  });
  return row;
}
