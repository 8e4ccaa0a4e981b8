/**
 * ClientCardsService's use cases: create, read, update (owner / kind / agent), state changes by hand,
 * lists, history. Every change writes client_card_history and publishes ClientCardChanged in the same
 * transaction (card-store.ts); every statement is scoped by tenant, and another tenant's card, contact or
 * company is NOT_FOUND exactly like a missing one.
 */
import { ClientCardCreated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import {
  ClientKind,
  ClientState,
  type ChangeClientCardStateRequest,
  type ClientCard,
  type ClientCardChange,
  type CreateClientCardRequest,
  type ListClientCardsRequest,
  type UpdateClientCardRequest,
} from '@crm/contracts/crm/contacts/v1/cards';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { CARD_CREATED, CARD_TOPIC, EVENT_SOURCE } from '../events';
import { CARD_COLUMNS, cardColumns, cardExtras, cardWithExtras, changeMessage, checkVersion, lockCard, recordChanges, setState, type FieldChange, type HistoryRow } from './card-store';
import { optionalUuidArg, uuidArg } from './ids';
import { decodeKeyset, page, pageSize, TS_KEY_RE, tsKeySql } from './keyset';
import { cardMessage, type Actor, type CardKind, type CardRow, type CardState } from './personal-card';
import { boundedText, containsPattern, ownerArg, queryArg } from './text';

const KIND_FROM_PROTO: Partial<Record<ClientKind, CardKind>> = {
  [ClientKind.CLIENT_KIND_DIRECT]: 'direct',
  [ClientKind.CLIENT_KIND_VIA_AGENT]: 'via_agent',
  [ClientKind.CLIENT_KIND_AGENT_PARTNER]: 'agent_partner',
};
const STATE_FROM_PROTO: Partial<Record<ClientState, CardState>> = {
  [ClientState.CLIENT_STATE_NOT_CLIENT]: 'not_client',
  [ClientState.CLIENT_STATE_POTENTIAL]: 'potential',
  [ClientState.CLIENT_STATE_ACTIVE]: 'active',
  [ClientState.CLIENT_STATE_FORMER]: 'former',
};

export function kindArg(field: string, k: ClientKind): CardKind {
  const v = KIND_FROM_PROTO[k];
  if (!v) throw new ValidationError(`${field} must be direct, via_agent or agent_partner`, [{ field, message: 'must be direct, via_agent or agent_partner' }]);
  return v;
}

export function stateArg(field: string, s: ClientState): CardState {
  const v = STATE_FROM_PROTO[s];
  if (!v) throw new ValidationError(`${field} must be not_client, potential, active or former`, [{ field, message: 'must be not_client, potential, active or former' }]);
  return v;
}

async function lock(em: EntityManager, key: string): Promise<void> {
  await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

/** The agent a via_agent card points at: an agent_partner card of the same tenant (locked against a kind change). */
async function checkAgent(em: EntityManager, tenantId: string, agentId: string, selfId?: string): Promise<void> {
  if (agentId === selfId) throw new ValidationError('a card cannot be its own agent', [{ field: 'agent_card_id', message: 'must be another card' }]);
  const rows = await em.execute<{ kind: CardKind }[]>('SELECT kind FROM client_cards WHERE tenant_id = ? AND id = ? FOR SHARE', [tenantId, agentId]);
  if (!rows.length) throw new DomainError('NOT_FOUND', `agent card ${agentId} not found`, { details: { entity: 'client card', id: agentId, field: 'agent_card_id' } });
  if (rows[0]!.kind !== 'agent_partner') {
    throw new DomainError('FAILED_PRECONDITION', `card ${agentId} is not an agent or partner (kind ${rows[0]!.kind}); only an agent_partner card can bring a via_agent client`, {
      details: { reason: 'agent_not_partner', agentCardId: agentId, kind: rows[0]!.kind },
    });
  }
}

export class ClientCardsService {
  constructor(private readonly orm: MikroORM) {}

  async create(tenantId: string, req: CreateClientCardRequest, actor: Actor): Promise<ClientCard> {
    const contactId = optionalUuidArg('contact_id', req.contactId);
    const companyId = optionalUuidArg('company_id', req.companyId);
    if (!contactId === !companyId) {
      throw new ValidationError('a card is for a contact or for a company: give exactly one of contact_id and company_id', [
        { field: contactId ? 'company_id' : 'contact_id', message: 'exactly one of contact_id and company_id is required' },
      ]);
    }
    const kind = req.kind === ClientKind.CLIENT_KIND_UNSPECIFIED ? 'direct' : kindArg('kind', req.kind);
    const ownerId = req.ownerId ? ownerArg('owner_id', req.ownerId) : null;
    const agentId = optionalUuidArg('agent_card_id', req.agentCardId);
    if (kind === 'via_agent' && !agentId) throw new ValidationError('a via_agent card needs agent_card_id (the agent’s card)', [{ field: 'agent_card_id', message: 'is required for kind via_agent' }]);
    if (kind !== 'via_agent' && agentId) throw new ValidationError('agent_card_id is only for kind via_agent', [{ field: 'agent_card_id', message: 'only for kind via_agent' }]);

    return this.orm.em.fork().transactional(async (em) => {
      const target = contactId ?? companyId!;
      await lock(em, `contacts:card:${tenantId}:${target}`);
      let displayName = '';
      if (contactId) {
        const rows = await em.execute<{ name: string | null; merged_into_id: string | null }[]>('SELECT name, merged_into_id FROM contacts WHERE tenant_id = ? AND id = ?', [tenantId, contactId]);
        if (!rows.length) throw new NotFoundError('contact', contactId);
        if (rows[0]!.merged_into_id) {
          throw new DomainError('FAILED_PRECONDITION', `contact ${contactId} was merged into ${rows[0]!.merged_into_id}; use that contact`, {
            details: { reason: 'contact_merged', mergedIntoId: rows[0]!.merged_into_id, public: { merged_into_id: rows[0]!.merged_into_id } },
          });
        }
        displayName = rows[0]!.name ?? '';
      } else {
        const rows = await em.execute<{ name: string }[]>('SELECT name FROM companies WHERE tenant_id = ? AND id = ?', [tenantId, companyId]);
        if (!rows.length) throw new NotFoundError('company', companyId!);
        displayName = rows[0]!.name;
      }
      const existing = await em.execute<{ id: string }[]>(
        `SELECT id FROM client_cards WHERE tenant_id = ? AND ${contactId ? 'contact_id' : 'company_id'} = ? ORDER BY created_at LIMIT 1`,
        [tenantId, target],
      );
      if (existing.length) {
        throw new DomainError('ALREADY_EXISTS', `the ${contactId ? 'contact' : 'company'} already has client card ${existing[0]!.id}`, {
          details: { reason: 'card_exists', cardId: existing[0]!.id, public: { card_id: existing[0]!.id } },
        });
      }
      if (agentId) await checkAgent(em, tenantId, agentId);

      const now = new Date();
      const row: CardRow = {
        id: uuidv7(),
        tenant_id: tenantId,
        contact_id: contactId ?? null,
        company_id: companyId ?? null,
        state: 'not_client',
        kind,
        owner_id: ownerId,
        agent_card_id: agentId ?? null,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await em.execute(
        `INSERT INTO client_cards (${CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, tenantId, row.contact_id, row.company_id, row.state, row.kind, row.owner_id, row.agent_card_id, 1, now, now],
      );
      await em.execute(
        `INSERT INTO client_card_history (id, tenant_id, card_id, field, from_value, to_value, reason, actor_kind, actor_ref, at)
         VALUES (?, ?, ?, 'created', NULL, 'not_client', NULL, ?, ?, ?)`,
        [uuidv7(), tenantId, row.id, actor.kind, actor.ref, now],
      );
      const card = cardMessage(row, { displayName });
      enqueueEvent(em, { topic: CARD_TOPIC, type: CARD_CREATED, codec: ClientCardCreated, payload: { card }, subject: row.id, tenantId, source: EVENT_SOURCE });
      return card;
    });
  }

  async get(tenantId: string, rawId: string): Promise<ClientCard> {
    const id = uuidArg('id', rawId);
    const em = this.orm.em.fork();
    const rows = await em.execute<CardRow[]>(`SELECT ${CARD_COLUMNS} FROM client_cards WHERE tenant_id = ? AND id = ?`, [tenantId, id]);
    if (!rows.length) throw new NotFoundError('client card', id);
    return cardWithExtras(em, tenantId, rows[0]!);
  }

  /** Owner, kind, agent: each changed field is a history row and a ClientCardChanged event; nothing changed, nothing written. */
  async update(tenantId: string, req: UpdateClientCardRequest, actor: Actor): Promise<ClientCard> {
    const id = uuidArg('id', req.id);
    if (req.expectedVersion < 0) throw new ValidationError('expected_version must not be negative', [{ field: 'expected_version', message: 'must be 0 (unchecked) or a version' }]);
    const ownerIn = req.ownerId === undefined ? undefined : req.ownerId === '' ? null : ownerArg('owner_id', req.ownerId);
    const kindIn = req.kind === ClientKind.CLIENT_KIND_UNSPECIFIED ? undefined : kindArg('kind', req.kind);
    const agentIn = req.agentCardId === undefined ? undefined : req.agentCardId === '' ? null : uuidArg('agent_card_id', req.agentCardId);

    return this.orm.em.fork().transactional(async (em) => {
      const card = await lockCard(em, tenantId, id);
      checkVersion('client card', card.version, req.expectedVersion);
      const owner = ownerIn === undefined ? card.owner_id : ownerIn;
      const kind = kindIn ?? card.kind;
      // Leaving via_agent drops the agent unless the caller names one (which is then an error below).
      const agent = agentIn === undefined ? (kind === 'via_agent' ? card.agent_card_id : null) : agentIn;
      if (kind === 'via_agent' && !agent) throw new ValidationError('a via_agent card needs agent_card_id (the agent’s card)', [{ field: 'agent_card_id', message: 'is required for kind via_agent' }]);
      if (kind !== 'via_agent' && agent) throw new ValidationError('agent_card_id is only for kind via_agent', [{ field: 'agent_card_id', message: 'only for kind via_agent' }]);
      if (agent && agent !== card.agent_card_id) await checkAgent(em, tenantId, agent, card.id);
      if (card.kind === 'agent_partner' && kind !== 'agent_partner') {
        const brought = await em.execute<{ n: number }[]>('SELECT count(*)::int AS n FROM client_cards WHERE tenant_id = ? AND agent_card_id = ?', [tenantId, card.id]);
        if (brought[0]!.n > 0) {
          throw new DomainError('FAILED_PRECONDITION', `the card is the agent of ${brought[0]!.n} via_agent card(s); change those first`, {
            details: { reason: 'agent_in_use', cards: brought[0]!.n },
          });
        }
      }
      const changes: FieldChange[] = [];
      if (owner !== card.owner_id) changes.push({ field: 'owner', from: card.owner_id, to: owner });
      if (kind !== card.kind) changes.push({ field: 'kind', from: card.kind, to: kind });
      if (agent !== card.agent_card_id) changes.push({ field: 'agent', from: card.agent_card_id, to: agent });
      if (!changes.length) return cardWithExtras(em, tenantId, card);
      const now = new Date();
      await em.execute('UPDATE client_cards SET owner_id = ?, kind = ?, agent_card_id = ?, version = version + 1, updated_at = ? WHERE id = ?', [owner, kind, agent, now, card.id]);
      const after: CardRow = { ...card, owner_id: owner, kind, agent_card_id: agent, version: card.version + 1, updated_at: now };
      await recordChanges(em, after, changes, actor, now);
      return cardWithExtras(em, tenantId, after);
    });
  }

  /** A state change by hand: the reason is required and the lifecycle table decides (src/domain/card-state.ts). */
  async changeState(tenantId: string, req: ChangeClientCardStateRequest, actor: Actor): Promise<ClientCard> {
    const id = uuidArg('id', req.id);
    const to = stateArg('state', req.state);
    const reason = boundedText('reason', req.reason, 1, 500);
    if (req.expectedVersion < 0) throw new ValidationError('expected_version must not be negative', [{ field: 'expected_version', message: 'must be 0 (unchecked) or a version' }]);
    return this.orm.em.fork().transactional(async (em) => {
      const card = await lockCard(em, tenantId, id);
      checkVersion('client card', card.version, req.expectedVersion);
      const after = await setState(em, card, to, actor, reason);
      return cardWithExtras(em, tenantId, after);
    });
  }

  /** Newest change first (updated_at desc, id desc), keyset-paginated. */
  async list(tenantId: string, req: ListClientCardsRequest): Promise<{ cards: ClientCard[]; nextCursor: string }> {
    const size = pageSize(req.pageSize);
    const states = [...new Set(req.states.map((s) => stateArg('states', s)))];
    const kinds = [...new Set(req.kinds.map((k) => kindArg('kinds', k)))];
    const ownerId = req.ownerId ? ownerArg('owner_id', req.ownerId) : undefined;
    const contactId = optionalUuidArg('contact_id', req.contactId);
    const companyId = optionalUuidArg('company_id', req.companyId);
    const query = queryArg(req.query);
    const after = req.cursor ? decodeKeyset('cards', req.cursor, TS_KEY_RE) : undefined;

    const where: string[] = ['cc.tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (states.length) {
      where.push('cc.state = ANY(?::text[])');
      params.push(`{${states.join(',')}}`);
    }
    if (kinds.length) {
      where.push('cc.kind = ANY(?::text[])');
      params.push(`{${kinds.join(',')}}`);
    }
    if (ownerId) {
      where.push('cc.owner_id = ?');
      params.push(ownerId);
    }
    if (contactId) {
      where.push('cc.contact_id = ?');
      params.push(contactId);
    }
    if (companyId) {
      where.push('cc.company_id = ?');
      params.push(companyId);
    }
    let joins = '';
    if (query) {
      joins = `LEFT JOIN contacts ct ON ct.id = cc.contact_id AND ct.tenant_id = cc.tenant_id
               LEFT JOIN companies co ON co.id = cc.company_id AND co.tenant_id = cc.tenant_id`;
      where.push('(ct.search_name LIKE ? OR co.search_name LIKE ?)');
      params.push(containsPattern(query), containsPattern(query));
    }
    if (after) {
      where.push('(cc.updated_at, cc.id) < (?::timestamptz, ?::uuid)');
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const em = this.orm.em.fork();
    const rows = await em.execute<(CardRow & { k: string })[]>(
      `SELECT ${cardColumns('cc')}, ${tsKeySql('cc.updated_at')} AS k FROM client_cards cc ${joins}
        WHERE ${where.join(' AND ')} ORDER BY cc.updated_at DESC, cc.id DESC LIMIT ?`,
      params,
    );
    const { items, nextCursor } = page(rows, size, 'cards', (r) => ({ key: r.k, id: r.id }));
    const extras = await cardExtras(em, tenantId, items);
    return { cards: items.map((r) => cardMessage(r, extras.get(r.id))), nextCursor };
  }

  /** Every change of the card, oldest first. */
  async history(tenantId: string, rawId: string): Promise<ClientCardChange[]> {
    const id = uuidArg('id', rawId);
    const em = this.orm.em.fork();
    const card = await em.execute<{ id: string }[]>('SELECT id FROM client_cards WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    if (!card.length) throw new NotFoundError('client card', id);
    const rows = await em.execute<HistoryRow[]>(
      'SELECT id, field, from_value, to_value, reason, actor_kind, actor_ref, at FROM client_card_history WHERE tenant_id = ? AND card_id = ? ORDER BY at, id',
      [tenantId, id],
    );
    return rows.map(changeMessage);
  }
}
