import { ClientKind, type ClientCard } from '@crm/contracts/crm/contacts/v1/cards';
import { CreateDealRequest, DealState, SalesChannel, type Deal } from '@crm/contracts/crm/funnel/v1/deals';
import { Channel, RequestState, channelToJSON, type Request } from '@crm/contracts/crm/intake/v1/request';
import { TransitionRequestRequest } from '@crm/contracts/crm/intake/v1/workflow';
import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError, type TenantContext } from '@crm/grpc';
import type { FastifyInstance } from 'fastify';
import { requireScope, type Caller } from '../auth';
import type { Clients } from '../clients';
import type { GatewayDeps } from '../deps';
import { dealOut, SALES_CHANNELS } from '../funnel-mappers';
import { day, funnelId } from '../funnel-schemas';
import { requestOut } from '../mappers';
import { AUTHENTICATED, idParam, json, NOT_BLANK, problems, uuid, WITH_BODY } from '../schemas';

/**
 * From request to deal, exactly once across intake and funnel (README "Exactly-once conversion").
 *
 * Convert: read the request (intake GetRequest: who-sees-what, 404 otherwise), its contact's personal
 * client card (contacts: the contact's oldest card), then funnel CreateDeal with `origin_request_id` and
 * the idempotency key `convert:<request id>` — funnel keeps one deal per request (a unique index), so a
 * retry, a double click or ten concurrent converts get the same deal — and then intake TransitionRequest
 * `converted` with the deal id. Funnel writes `request_linked` (kind `converted`) in the deal's
 * transaction; when this process dies between the two writes, or intake does not answer the second,
 * intake's consumer of crm.funnel.deal.v1 finishes the transition itself. Attach is the same with
 * LinkRequest and kind `attached` (or only intake's transition, for a client card).
 */

const STAGE_KEY = '^[a-z][a-z0-9_]{0,39}$';
const AMOUNT_MAX = 1_000_000_000_000_000;
/** The states a request may be converted or attached from (intake's machine, DOMAIN.md). */
const OPEN: readonly RequestState[] = [RequestState.REQUEST_STATE_NEW, RequestState.REQUEST_STATE_ASSIGNED, RequestState.REQUEST_STATE_IN_PROGRESS];
const STATE_WORDS: Partial<Record<RequestState, string>> = {
  [RequestState.REQUEST_STATE_NEW]: 'new',
  [RequestState.REQUEST_STATE_ASSIGNED]: 'assigned',
  [RequestState.REQUEST_STATE_IN_PROGRESS]: 'in_progress',
  [RequestState.REQUEST_STATE_CONVERTED]: 'converted',
  [RequestState.REQUEST_STATE_ATTACHED]: 'attached',
  [RequestState.REQUEST_STATE_DEFERRED]: 'deferred',
  [RequestState.REQUEST_STATE_TRASH]: 'trash',
  [RequestState.REQUEST_STATE_CLOSED]: 'closed',
};
/** intake's machine: where each state may go (only the answer's `allowed` is built from it). */
const ALLOWED: Record<string, string[]> = {
  deferred: ['new'],
  trash: ['new'],
  closed: [],
  converted: [],
  attached: [],
};
const CHANNEL_TITLES: Partial<Record<Channel, string>> = {
  [Channel.CHANNEL_PHONE]: 'phone call',
  [Channel.CHANNEL_CHAT]: 'chat',
  [Channel.CHANNEL_EMAIL]: 'e-mail',
  [Channel.CHANNEL_SIGNUP]: 'sign-up',
  [Channel.CHANNEL_WEB_FORM]: 'web form',
};
export const TITLE_MAX = 200;

export const convertSchema = {
  $id: 'ConvertRequest',
  type: 'object',
  description: "Turn a request into a new deal. Everything but the pipeline is optional and pre-filled from the request, its contact and the contact's client card.",
  additionalProperties: false,
  required: ['pipeline_id'],
  properties: {
    pipeline_id: { ...funnelId, description: 'The pipeline the deal opens in (at its first stage unless `stage` names another open stage)' },
    title: { type: 'string', minLength: 1, maxLength: TITLE_MAX, pattern: NOT_BLANK, description: 'Default: "<name or phone> — <channel>"' },
    amount_minor: { type: 'integer', minimum: 0, maximum: AMOUNT_MAX, description: 'Integer minor units (kopecks, cents); default 0' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: "ISO 4217; default: the pipeline's" },
    stage: { type: 'string', pattern: STAGE_KEY, description: 'An open stage whose guard holds; default: the first' },
    owner_id: { ...funnelId, description: "Default: the request's assignee, else you" },
    sales_channel: { type: 'string', enum: SALES_CHANNELS.words, description: "Default: `agents` for a client brought by an agent (its card is `via_agent`), else `inbound_leadgen`" },
    expected_close_date: day,
  },
  examples: [{ pipeline_id: '01960000-0000-7000-8000-000000000001', title: 'Анна Смирнова — web form', amount_minor: 15000000, currency: 'RUB' }],
} as const;

export const attachSchema = {
  $id: 'AttachRequest',
  type: 'object',
  description: 'Attach a request to an existing open deal (`deal_id`) or to a client card (`client_card_id`): exactly one of them.',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    deal_id: { ...funnelId, description: 'An open deal of the tenant' },
    client_card_id: { ...uuid, description: 'A client card of the tenant' },
  },
  examples: [{ deal_id: '01960000-0000-7000-8000-000000000002' }],
} as const;

export const conversionSchema = {
  $id: 'Conversion',
  type: 'object',
  description: 'The deal a request was converted into, and the request (now `converted`, with `deal_id`)',
  additionalProperties: false,
  required: ['deal', 'request'],
  properties: { deal: { $ref: 'Deal#' }, request: { $ref: 'Request#' } },
} as const;

export const attachmentSchema = {
  $id: 'Attachment',
  type: 'object',
  description: 'The request (now `attached`) and the deal it was attached to (null when attached to a client card)',
  additionalProperties: false,
  required: ['request', 'deal'],
  properties: { request: { $ref: 'Request#' }, deal: { anyOf: [{ $ref: 'Deal#' }, { type: 'null' }] } },
} as const;

/** From request to deal: convert a request into a new deal, attach it to an open deal or a client card. */
export const conversionSchemas: { $id: string }[] = [convertSchema, attachSchema, conversionSchema, attachmentSchema];

interface ConvertBody {
  pipeline_id: string;
  title?: string;
  amount_minor?: number;
  currency?: string;
  stage?: string;
  owner_id?: string;
  sales_channel?: string;
  expected_close_date?: string;
}

interface AttachBody {
  deal_id?: string;
  client_card_id?: string;
}

function stateWord(s: RequestState): string {
  return STATE_WORDS[s] ?? 'unspecified';
}

/** The 409 intake answers for a move its machine does not allow (the same `state` / `allowed` members). */
function illegal(r: Request, to: 'converted' | 'attached'): DomainError {
  const state = stateWord(r.state);
  const allowed = ALLOWED[state] ?? [];
  return new DomainError('FAILED_PRECONDITION', `cannot move a ${state} request to ${to}; allowed: ${allowed.length ? allowed.join(', ') : 'none (terminal)'}`, {
    details: { reason: 'illegal_transition', state, allowed: JSON.stringify(allowed) },
  });
}

/** A gRPC failure as a domain error (null for anything else: the database, a bug). */
function domainOf(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  return isServiceError(err) ? fromServiceError(err) : null;
}

/** "<name or phone> — <channel>", at most 200 characters (the name is cut, never the channel). */
export function defaultTitle(r: Request): string {
  const channel = CHANNEL_TITLES[r.axes?.channel ?? Channel.CHANNEL_UNSPECIFIED] ?? 'request';
  const who = (r.name.trim() || r.phone || r.email || 'Request').replace(/\s+/g, ' ');
  const tail = ` — ${channel}`;
  const room = TITLE_MAX - tail.length;
  const chars = [...who];
  return `${chars.length > room ? `${chars.slice(0, room - 1).join('')}…` : who}${tail}`;
}

/** The contact's personal client card: its oldest (the one made with it), as contacts itself picks it; null when none. */
async function personalCard(clients: Clients, contactId: string, tenant: TenantContext): Promise<ClientCard | null> {
  if (!contactId) return null;
  const res = await clients.clientCards.listClientCards({ states: [], kinds: [], ownerId: '', contactId, companyId: '', query: '', pageSize: 100, cursor: '' }, tenant);
  const cards = [...res.cards].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  return cards[0] ?? null;
}

function createIn(r: Request, card: ClientCard | null, b: ConvertBody): CreateDealRequest {
  const viaAgent = card?.kind === ClientKind.CLIENT_KIND_VIA_AGENT && card.agentCardId !== '';
  const salesChannel = b.sales_channel ? SALES_CHANNELS.in(b.sales_channel) : viaAgent ? SalesChannel.SALES_CHANNEL_AGENTS : SalesChannel.SALES_CHANNEL_INBOUND_LEADGEN;
  const a = r.attribution;
  const channel = channelToJSON(r.axes?.channel ?? Channel.CHANNEL_UNSPECIFIED).replace(/^CHANNEL_/, '').toLowerCase();
  return CreateDealRequest.fromPartial({
    pipelineId: b.pipeline_id,
    title: b.title ?? defaultTitle(r),
    amountMinor: b.amount_minor ?? 0,
    currency: b.currency ?? '',
    stage: b.stage ?? '',
    clientCardId: card?.id ?? '',
    contactIds: r.contactId ? [r.contactId] : [],
    // Empty: funnel makes the caller (a user) the owner.
    ownerId: b.owner_id ?? r.assigneeId ?? '',
    departmentId: r.departmentId ?? '',
    projectId: r.projectId ?? '',
    salesChannel,
    partnerCardId: salesChannel === SalesChannel.SALES_CHANNEL_AGENTS && viaAgent ? card!.agentCardId : '',
    attribution: {
      utmSource: a?.utmSource ?? '',
      utmMedium: a?.utmMedium ?? '',
      utmCampaign: a?.utmCampaign ?? '',
      utmContent: a?.utmContent ?? '',
      utmTerm: a?.utmTerm ?? '',
      landingPage: a?.landingPage ?? '',
      channel: channel === 'unspecified' ? '' : channel,
      dialedNumberKind: r.dialedNumberKind ?? '',
    },
    originRequestId: r.id,
    expectedCloseDate: b.expected_close_date ?? '',
    idempotencyKey: `convert:${r.id}`,
  });
}

export async function conversionRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  const scopes = (caller: Caller) => {
    requireScope(caller, 'deals:write');
    requireScope(caller, 'requests:write');
  };
  const getRequest = async (id: string, tenant: TenantContext) => (await clients.intake.getRequest({ id }, tenant)).request!;

  /** The deal funnel made from the request (the unique origin), or null. */
  const originDeal = async (requestId: string, tenant: TenantContext): Promise<Deal | null> => {
    const res = await clients.deals.listDealsOfRequest({ requestId }, tenant);
    return res.deals.find((d) => d.originRequestId === requestId) ?? null;
  };

  /** A request already converted: 200 with its deal when that deal was made from it, else 409. */
  const alreadyConverted = async (r: Request, tenant: TenantContext) => {
    const deal = r.dealId
      ? await clients.deals.getDeal({ id: r.dealId }, tenant).then(
          (x) => x.deal ?? null,
          (err: unknown) => {
            // A deal the caller may not see (or none) is not this request's conversion; funnel down is a 503.
            if (domainOf(err)?.code === 'NOT_FOUND') return null;
            throw err;
          },
        )
      : null;
    if (!deal || deal.originRequestId !== r.id) {
      throw new DomainError('FAILED_PRECONDITION', `request ${r.id} is already converted${r.dealId ? ` into deal ${r.dealId}` : ''}, which was not made from it by a conversion`, {
        details: { reason: 'already_converted', state: 'converted', allowed: '[]' },
      });
    }
    return { deal: dealOut(deal), request: requestOut(r) };
  };

  /**
   * intake's transition; a refusal because the request is already where it should be (the saga's consumer,
   * or a concurrent call, got there first) is success: the request as it is now.
   */
  const transition = async (r: Request, to: RequestState, link: { dealId?: string; clientCardId?: string }, tenant: TenantContext): Promise<Request> => {
    try {
      const res = await clients.workflow.transitionRequest(
        TransitionRequestRequest.fromPartial({ id: r.id, expectedVersion: 0, to, dealId: link.dealId ?? '', clientCardId: link.clientCardId ?? '' }),
        tenant,
      );
      return res.request!;
    } catch (err) {
      if (domainOf(err)?.code !== 'FAILED_PRECONDITION') throw err;
      const now = await getRequest(r.id, tenant);
      const there = now.state === to && (link.dealId ? now.dealId === link.dealId : !now.dealId && now.clientCardId === link.clientCardId);
      if (!there) throw err;
      return now;
    }
  };

  app.post<{ Params: { id: string }; Body: ConvertBody }>(
    '/v1/requests/:id/convert',
    {
      schema: {
        tags: ['conversion'],
        operationId: 'convertRequest',
        summary: 'Convert a request into a new deal',
        description:
          "Creates a deal in the pipeline, pre-filled from the request (title, department, project, attribution, owner: the assignee or you), its contact and the contact's client card, and moves the request to `converted` with the deal's id — exactly once: a retry, a double click or concurrent calls get the same deal (funnel keeps one deal per request), and if the second write is lost intake finishes it from funnel's event. 201 when this call made the deal; 200 when the request already had it. A request that cannot be converted (`deferred`, `trash`, `closed`, `attached`) is a 409 with `state` and `allowed`, as is one converted into another deal; another tenant's request or pipeline is a 404.",
        params: idParam,
        body: { $ref: 'ConvertRequest#' },
        response: {
          201: json('Converted: the new deal and the request', { $ref: 'Conversion#' }),
          200: json('Already converted into this deal (a retry): the deal and the request', { $ref: 'Conversion#' }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      scopes(caller);
      const tenant = caller.tenant;
      const b = req.body;
      const r = await getRequest(req.params.id, tenant);
      if (r.state === RequestState.REQUEST_STATE_CONVERTED) return reply.code(200).send(await alreadyConverted(r, tenant));
      if (!OPEN.includes(r.state)) throw illegal(r, 'converted');
      const card = await personalCard(clients, r.contactId, tenant);
      let deal: Deal;
      let replayed: boolean;
      try {
        const res = await clients.deals.createDeal(createIn(r, card, b), tenant);
        deal = res.deal!;
        replayed = res.replayed;
      } catch (err) {
        // The key `convert:<id>` was used with another body (another title, another caller's default
        // owner): the request has its deal already — that one is the answer.
        const e = domainOf(err);
        if (!e || e.details.reason !== 'idempotency_key_reused') throw err;
        const found = await originDeal(r.id, tenant);
        // The key was taken by a deal made by hand (POST /v1/deals with this Idempotency-Key): a conflict.
        if (!found) throw new DomainError('ALREADY_EXISTS', `the key convert:${r.id} names a deal that was not made from this request`, { details: { reason: 'key_taken' } });
        deal = found;
        replayed = true;
      }
      const after = await transition(r, RequestState.REQUEST_STATE_CONVERTED, { dealId: deal.id }, tenant);
      return reply.code(replayed ? 200 : 201).send({ deal: dealOut(deal), request: requestOut(after) });
    },
  );

  app.post<{ Params: { id: string }; Body: AttachBody }>(
    '/v1/requests/:id/attach',
    {
      schema: {
        tags: ['conversion'],
        operationId: 'attachRequest',
        summary: 'Attach a request to an open deal or to a client card',
        description:
          'With `deal_id`: links the request to the open deal in funnel and moves it to `attached` with the deal (exactly once, like a conversion: a retry answers the same; a deal that is won or lost is a 409, a request linked to another deal a 409). With `client_card_id`: moves it to `attached` with the card (it must exist: else 404); `deal` is null then. A request that cannot be attached is a 409 with `state` and `allowed`.',
        params: idParam,
        body: { $ref: 'AttachRequest#' },
        response: { 200: json('Attached: the request and the deal (null for a card)', { $ref: 'Attachment#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      scopes(caller);
      const tenant = caller.tenant;
      const b = req.body;
      const r = await getRequest(req.params.id, tenant);
      if (b.client_card_id) {
        const card = (await clients.clientCards.getClientCard({ id: b.client_card_id }, tenant)).card!;
        if (r.state === RequestState.REQUEST_STATE_ATTACHED && !r.dealId && r.clientCardId === card.id) return { request: requestOut(r), deal: null };
        if (!OPEN.includes(r.state)) throw illegal(r, 'attached');
        const after = await transition(r, RequestState.REQUEST_STATE_ATTACHED, { clientCardId: card.id }, tenant);
        return { request: requestOut(after), deal: null };
      }
      const dealId = b.deal_id!.toLowerCase();
      if (r.state === RequestState.REQUEST_STATE_ATTACHED && r.dealId === dealId) {
        const deal = (await clients.deals.getDeal({ id: dealId }, tenant)).deal!;
        return { request: requestOut(r), deal: dealOut(deal) };
      }
      if (!OPEN.includes(r.state)) throw illegal(r, 'attached');
      const current = (await clients.deals.getDeal({ id: dealId }, tenant)).deal!;
      if (current.state !== DealState.DEAL_STATE_OPEN) {
        throw new DomainError('FAILED_PRECONDITION', `deal ${dealId} is ${current.state === DealState.DEAL_STATE_WON ? 'won' : 'lost'}: a request is attached to an open deal`, { details: { reason: 'deal_closed' } });
      }
      const linked = await clients.deals.linkRequest({ dealId, requestId: r.id }, tenant);
      const after = await transition(r, RequestState.REQUEST_STATE_ATTACHED, { dealId }, tenant);
      return { request: requestOut(after), deal: dealOut(linked.deal ?? current) };
    },
  );
}
