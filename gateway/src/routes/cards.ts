import { Base, ChangeClientCardStateRequest, CreateClientCardRequest, ListBaseRequest, ListClientCardsRequest, UpdateClientCardRequest } from '@crm/contracts/crm/contacts/v1/cards';
import { GetTimelineRequest } from '@crm/contracts/crm/contacts/v1/contacts';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { cardChangeOut, CLIENT_KINDS, CLIENT_STATES, clientCardOut, contactOut, timelineEntryOut } from '../contacts-mappers';
import { searchQuery } from '../contacts-schemas';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, uuid, WITH_BODY } from '../schemas';
import { nextCursor, pageParams, type PageQuery } from './contacts';

const cardLinks = (id: string) => ({
  GetClientCard: { operationId: 'getClientCard', parameters: { id }, description: 'The card' },
  UpdateClientCard: { operationId: 'updateClientCard', parameters: { id }, description: 'Change its owner, kind or agent' },
  ChangeClientCardState: { operationId: 'changeClientCardState', parameters: { id }, description: 'Change its state' },
  GetClientCardHistory: { operationId: 'getClientCardHistory', parameters: { id }, description: 'Its history' },
  GetClientCardTimeline: { operationId: 'getClientCardTimeline', parameters: { id }, description: 'Its communication timeline' },
});

/** Client cards (state, kind, owner, agent; history; timeline) and the three bases. */
export async function cardRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: PageQuery & { state?: string[]; kind?: string[]; owner_id?: string; contact_id?: string; company_id?: string; query?: string } }>(
    '/v1/client-cards',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'listClientCards',
        summary: 'List client cards by state, kind, owner, contact or company',
        querystring: pageParams({
          state: { type: 'array', items: { type: 'string', enum: CLIENT_STATES.words }, maxItems: CLIENT_STATES.words.length },
          kind: { type: 'array', items: { type: 'string', enum: CLIENT_KINDS.words }, maxItems: CLIENT_KINDS.words.length },
          owner_id: uuid,
          contact_id: uuid,
          company_id: uuid,
          query: { ...searchQuery, description: "Part of the contact's or company's name" },
        }),
        response: { 200: json('A page of client cards', { $ref: 'ClientCardPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const q = req.query;
      const res = await clients.clientCards.listClientCards(
        ListClientCardsRequest.fromPartial({
          states: (q.state ?? []).map(CLIENT_STATES.in),
          kinds: (q.kind ?? []).map(CLIENT_KINDS.in),
          ownerId: q.owner_id ?? '',
          contactId: q.contact_id ?? '',
          companyId: q.company_id ?? '',
          query: q.query ?? '',
          pageSize: q.page_size ?? 25,
          cursor: q.cursor ?? '',
        }),
        req.caller!.tenant,
      );
      return { items: res.cards.map(clientCardOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.post<{ Body: { contact_id?: string; company_id?: string; kind: string; owner_id?: string; agent_card_id?: string } }>(
    '/v1/client-cards',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'createClientCard',
        summary: 'Create a client card for a contact or a company',
        description: "Every contact already gets a `not_client` / `direct` card when it is created; this adds others (a company's, an agent's). A via_agent card whose agent is not an agent_partner card is a 409.",
        body: { $ref: 'CreateClientCard#' },
        response: {
          201: json('Created', { $ref: 'ClientCard#' }, { location: { type: 'string', description: 'The new card: /v1/client-cards/{id}' } }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409),
        },
      },
      links: { 201: cardLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body;
      const res = await clients.clientCards.createClientCard(
        CreateClientCardRequest.fromPartial({ contactId: b.contact_id ?? '', companyId: b.company_id ?? '', kind: CLIENT_KINDS.in(b.kind), ownerId: b.owner_id ?? '', agentCardId: b.agent_card_id ?? '' }),
        req.caller!.tenant,
      );
      return reply.code(201).header('location', `/v1/client-cards/${res.card!.id}`).send(clientCardOut(res.card!));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/client-cards/:id',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'getClientCard',
        summary: 'Get a client card',
        params: idParam,
        response: { 200: json('The card', { $ref: 'ClientCard#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: cardLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.clientCards.getClientCard({ id: req.params.id }, req.caller!.tenant);
      return clientCardOut(res.card!);
    },
  );

  app.patch<{ Params: { id: string }; Body: { owner_id?: string | null; kind?: string; agent_card_id?: string | null; expected_version?: number } }>(
    '/v1/client-cards/:id',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'updateClientCard',
        summary: "Change a card's owner, kind or agent",
        description: 'With `expected_version`, a card changed since is a 409. Every change is in the history.',
        params: idParam,
        body: { $ref: 'UpdateClientCard#' },
        response: { 200: json('The card after the change', { $ref: 'ClientCard#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body ?? {};
      const res = await clients.clientCards.updateClientCard(
        UpdateClientCardRequest.fromPartial({
          id: req.params.id,
          ownerId: b.owner_id === undefined ? undefined : (b.owner_id ?? ''),
          kind: b.kind === undefined ? 0 : CLIENT_KINDS.in(b.kind),
          agentCardId: b.agent_card_id === undefined ? undefined : (b.agent_card_id ?? ''),
          expectedVersion: b.expected_version ?? 0,
        }),
        req.caller!.tenant,
      );
      return clientCardOut(res.card!);
    },
  );

  app.post<{ Params: { id: string }; Body: { state: string; reason: string; expected_version?: number } }>(
    '/v1/client-cards/:id/state',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'changeClientCardState',
        summary: "Change a card's state by hand, with a reason",
        description: "A transition DOMAIN.md's card lifecycle does not allow is a 409.",
        params: idParam,
        body: { $ref: 'ChangeClientCardState#' },
        response: { 200: json('The card after the change', { $ref: 'ClientCard#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body;
      const res = await clients.clientCards.changeClientCardState(
        ChangeClientCardStateRequest.fromPartial({ id: req.params.id, state: CLIENT_STATES.in(b.state), reason: b.reason, expectedVersion: b.expected_version ?? 0 }),
        req.caller!.tenant,
      );
      return clientCardOut(res.card!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/client-cards/:id/history',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'getClientCardHistory',
        summary: 'Every change of a card, oldest first',
        params: idParam,
        response: { 200: json('The history', { $ref: 'ClientCardHistory#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.clientCards.getClientCardHistory({ id: req.params.id }, req.caller!.tenant);
      return { items: res.changes.map(cardChangeOut) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/client-cards/:id/timeline',
    {
      schema: {
        tags: ['client cards'],
        operationId: 'getClientCardTimeline',
        summary: "A client card's communication timeline, newest first",
        params: idParam,
        querystring: pageParams(),
        response: { 200: json('A page of the timeline', { $ref: 'TimelinePage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.contacts.getTimeline(
        GetTimelineRequest.fromPartial({ clientCardId: req.params.id, pageSize: req.query.page_size ?? 25, cursor: req.query.cursor ?? '' }),
        req.caller!.tenant,
      );
      return { items: res.entries.map(timelineEntryOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  // The bases are queries over history, never flags: cold lists contacts, free and disconnected cards.
  const bases: [string, Base, string, string, string][] = [
    ['cold', Base.BASE_COLD, 'listColdBase', 'The cold base: contacts with no request and no deal of their own (e.g. imported lists)', 'ContactPage'],
    ['free', Base.BASE_FREE, 'listFreeBase', 'The free base: cards with at least one finished deal and no open deal', 'ClientCardPage'],
    ['disconnected', Base.BASE_DISCONNECTED, 'listDisconnectedBase', 'Disconnected clients: cards in state former', 'ClientCardPage'],
  ];
  for (const [word, base, operationId, summary, pageSchema] of bases) {
    app.get<{ Querystring: PageQuery & { query?: string } }>(
      `/v1/bases/${word}`,
      {
        schema: {
          tags: ['bases'],
          operationId,
          summary,
          querystring: pageParams({ query: { ...searchQuery, description: word === 'cold' ? 'Part of a name or a contact point' : 'Part of the name' } }),
          response: { 200: json(`A page of the ${word} base`, { $ref: `${pageSchema}#` }), ...problems(400, ...AUTHENTICATED) },
        },
      },
      async (req) => {
        requireScope(req.caller!, 'contacts:read');
        const q = req.query;
        const res = await clients.clientCards.listBase(ListBaseRequest.fromPartial({ base, query: q.query ?? '', pageSize: q.page_size ?? 25, cursor: q.cursor ?? '' }), req.caller!.tenant);
        const items = base === Base.BASE_COLD ? res.contacts.map(contactOut) : res.cards.map(clientCardOut);
        return { items, next_cursor: nextCursor(res.nextCursor) };
      },
    );
  }
}
