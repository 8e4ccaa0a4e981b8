import { ClientKind, ClientState, ListClientCardsRequest } from '@crm/contracts/crm/contacts/v1/cards';
import { DealState, ListDealsRequest } from '@crm/contracts/crm/funnel/v1/deals';
import { ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import type { Call } from '@crm/contracts/crm/telephony/v1/telephony';
import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError, type TenantContext } from '@crm/grpc';
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { requireScope } from '../auth';
import { CALL_DIRECTIONS, CALL_NUMBER_KINDS, callEventOut, callOut, missedStatsOut, parseRange } from '../call-mappers';
import { callListQuery, callNamedSchemas, missedStatsQuery } from '../call-schemas';
import { CLIENT_KINDS, CLIENT_STATES } from '../contacts-mappers';
import type { GatewayDeps } from '../deps';
import { dealOut } from '../funnel-mappers';
import { utcInstant } from '../instant';
import { requestOut } from '../mappers';
import { AUTHENTICATED, idParam, json, problems, WITH_BODY } from '../schemas';
import { createdHeaders, idempotencyHeaders, idempotencyKey } from './contacts';

/** Named schemas of the calls routes. */
export const callSchemas: { $id: string }[] = callNamedSchemas;

/** How long the card waits for each of its optional parts (request, contact, deals, recent requests). */
const CARD_PART_MS = 1_500;
/** The recording is served in pieces of this many bytes (FetchRecording's maximum). */
const PIECE = 1024 * 1024;

interface CallListQuery {
  contact_id?: string;
  request_id?: string;
  user_id?: string;
  direction?: string;
  missed?: boolean;
  number_id?: string;
  since?: string;
  until?: string;
  live?: boolean;
  limit?: number;
  cursor?: string;
}

/** A date-time filter in UTC, or a 400 naming the field. */
function instant(field: string, value: string | undefined): string {
  if (value === undefined) return '';
  const utc = utcInstant(value);
  if (utc === null) throw new DomainError('INVALID_ARGUMENT', `${field} must be an RFC 3339 date-time`, { violations: [{ field, message: 'must be an RFC 3339 date-time' }] });
  return utc;
}

function range(since: string | undefined, until: string | undefined): { since: string; until: string } {
  const s = instant('since', since);
  const u = instant('until', until);
  if (s && u && u <= s) throw new DomainError('INVALID_ARGUMENT', 'until must be after since', { violations: [{ field: 'until', message: 'must be after since' }] });
  return { since: s, until: u };
}

const callLinks = (id: string) => ({
  GetCall: { operationId: 'getCall', parameters: { id }, description: 'The call' },
  GetCallCard: { operationId: 'getCallCard', parameters: { id }, description: 'Its card (the screen pop)' },
  ListCallEvents: { operationId: 'listCallEvents', parameters: { id }, description: 'Its events' },
});

type Part<T> = { ok: true; value: T } | { ok: false; missing: boolean };

/**
 * An optional part of the card: its value, `missing: true` when the thing is not there (NOT_FOUND — another
 * department's request, a merged contact), `missing: false` when its service failed or was slow (the card
 * says so in `partial`).
 */
async function part<T>(p: Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    const e = isServiceError(err) ? fromServiceError(err) : err;
    const missing = e instanceof DomainError && (e.code === 'NOT_FOUND' || e.code === 'PERMISSION_DENIED' || e.code === 'INVALID_ARGUMENT');
    return { ok: false, missing };
  }
}

/**
 * Calls (telephony's CallService): the list and a call with its events (`calls:read`), the screen pop's
 * card aggregated from intake, contacts and funnel, click-to-call and transfer (`calls:write`), the
 * recording (bytes streamed from telephony, with HTTP ranges; the provider's URL never leaves telephony)
 * and missed-call statistics.
 */
export async function callRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: CallListQuery }>(
    '/v1/calls',
    {
      schema: {
        tags: ['calls'],
        operationId: 'listCalls',
        summary: 'Calls, newest first',
        description: 'Every filter given must hold. `user_id`: answered or placed by; `live`: ringing or answered now.',
        querystring: { type: 'object', additionalProperties: false, properties: callListQuery },
        response: { 200: json('A page of calls', { $ref: 'CallPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      const q = req.query;
      const { since, until } = range(q.since, q.until);
      const res = await clients.calls.listCalls(
        {
          pageSize: q.limit ?? 50,
          pageToken: q.cursor ?? '',
          contactId: q.contact_id ?? '',
          requestId: q.request_id ?? '',
          userId: q.user_id ?? '',
          direction: q.direction ? CALL_DIRECTIONS.in(q.direction) : 0,
          missed: q.missed,
          numberId: q.number_id ?? '',
          since,
          until,
          live: q.live === true,
        },
        req.caller!.tenant,
      );
      return { items: res.calls.map(callOut), next_cursor: res.nextPageToken || null };
    },
  );

  app.get<{ Querystring: { since?: string; until?: string; kind?: string; time_zone?: string } }>(
    '/v1/calls/missed-stats',
    {
      schema: {
        tags: ['calls'],
        operationId: 'getMissedCallStats',
        summary: 'Missed inbound calls per number and hour, with recoveries and the median time to a callback',
        querystring: { type: 'object', additionalProperties: false, properties: missedStatsQuery },
        response: { 200: json('The statistics', { $ref: 'MissedCallStats#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      const q = req.query;
      const r = range(q.since, q.until);
      // The documented defaults: up to now, over the 7 days before the end.
      const until = r.until || new Date().toISOString();
      const since = r.since || new Date(Date.parse(until) - 7 * 86_400_000).toISOString();
      if (since >= until) throw new DomainError('INVALID_ARGUMENT', 'until must be after since', { violations: [{ field: 'until', message: 'must be after since' }] });
      const res = await clients.calls.missedCallStats({ since, until, timeZone: q.time_zone ?? '', kind: q.kind ? CALL_NUMBER_KINDS.in(q.kind) : 0 }, req.caller!.tenant);
      return missedStatsOut(res);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/calls/:id',
    {
      schema: {
        tags: ['calls'],
        operationId: 'getCall',
        summary: 'A call',
        params: idParam,
        response: { 200: json('The call', { $ref: 'Call#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      return callOut((await clients.calls.getCall({ id: req.params.id }, req.caller!.tenant)).call!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/calls/:id/events',
    {
      schema: {
        tags: ['calls'],
        operationId: 'listCallEvents',
        summary: "A call's normalised events in the order they were applied",
        params: idParam,
        response: { 200: json('The events', { $ref: 'CallEventList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      const res = await clients.calls.listCallEvents({ callId: req.params.id }, req.caller!.tenant);
      return { items: res.events.map(callEventOut) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/calls/:id/card',
    {
      schema: {
        tags: ['calls'],
        operationId: 'getCallCard',
        summary: "The screen pop's card: the call, its request, the caller's contact, open deals, last requests",
        description: 'Each part but the call is optional: a part whose service is slow or down is left out (named in `partial`), the card still answers.',
        params: idParam,
        response: { 200: json('The card', { $ref: 'CallCard#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      const ctx = req.caller!.tenant;
      const call = (await clients.calls.getCall({ id: req.params.id }, ctx)).call!;
      return callCard(deps, call, ctx, req.caller!.scopes);
    },
  );

  app.post<{ Body: { phone: string; request_id?: string; contact_id?: string; connection_id?: string }; Headers: { 'idempotency-key'?: string } }>(
    '/v1/calls',
    {
      schema: {
        tags: ['calls'],
        operationId: 'originateCall',
        summary: 'Click-to-call: ring your extension, then the phone',
        description:
          "A 409 when you have no extension on the connection (`no_extension`); a 503 when the provider refused or did not answer (nothing is kept). With `Idempotency-Key`, a retry replays the first call.",
        headers: idempotencyHeaders,
        body: { $ref: 'OriginateCall#' },
        response: {
          201: json('The call placed', { $ref: 'Call#' }, createdHeaders('call: /v1/calls/{id}')),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409),
        },
      },
      links: { 201: callLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'calls:write');
      const key = idempotencyKey(req.headers['idempotency-key']);
      const b = req.body;
      const res = await clients.calls.originate(
        { phone: b.phone, requestId: b.request_id ?? '', contactId: b.contact_id ?? '', connectionId: b.connection_id ?? '', idempotencyKey: key },
        req.caller!.tenant,
      );
      const call = res.call!;
      return reply.code(201).header('location', `/v1/calls/${call.id}`).send(callOut(call));
    },
  );

  app.post<{ Params: { id: string }; Body: { to_user_id?: string; to_department_id?: string } }>(
    '/v1/calls/:id/transfer',
    {
      schema: {
        tags: ['calls'],
        operationId: 'transferCall',
        summary: 'Transfer a live call to a colleague or a department',
        description: 'A 409 once the call has ended (`call_not_live`).',
        params: idParam,
        body: { $ref: 'TransferCall#' },
        response: { 200: json('The call after the transfer', { $ref: 'Call#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:write');
      const res = await clients.calls.transfer({ callId: req.params.id, toUserId: req.body.to_user_id ?? '', toDepartmentId: req.body.to_department_id ?? '' }, req.caller!.tenant);
      return callOut(res.call!);
    },
  );

  app.get<{ Params: { id: string }; Headers: { range?: string } }>(
    '/v1/calls/:id/recording',
    {
      schema: {
        tags: ['calls'],
        operationId: 'getCallRecording',
        summary: "The call's recording (audio bytes; HTTP Range supported)",
        description: 'A 404 while the call has no recording. `Range: bytes=a-b` (one range) answers 206 with Content-Range; a range past the end is a 416.',
        params: idParam,
        headers: { type: 'object', properties: { range: { type: 'string', maxLength: 100, description: 'One bytes range, e.g. `bytes=0-` or `bytes=-1000`' } } },
        response: {
          200: { description: 'The whole recording', content: { 'audio/mpeg': { schema: { type: 'string', format: 'binary' } }, 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
          206: { description: 'The range asked for', content: { 'audio/mpeg': { schema: { type: 'string', format: 'binary' } }, 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
          ...problems(400, ...AUTHENTICATED, 404, 416),
        },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'calls:read');
      const ctx = req.caller!.tenant;
      const callId = req.params.id;
      // A 1-byte probe gives the size and the type (a missing recording is the NOT_FOUND of this call).
      const head = await clients.calls.fetchRecording({ callId, offset: 0, limit: 1 }, ctx);
      const size = Number(head.size);
      const type = /^[a-z]+\/[a-z0-9.+-]+$/i.test(head.contentType) ? head.contentType : 'application/octet-stream';
      const r = parseRange(req.headers.range, size);
      reply.header('accept-ranges', 'bytes').header('content-type', type).header('cache-control', 'private, max-age=300').header('x-content-type-options', 'nosniff');
      if (r === 'unsatisfiable' || size === 0) {
        if (req.headers.range) {
          return reply
            .code(416)
            .header('content-range', `bytes */${size}`)
            .type('application/problem+json')
            .send({ type: 'about:blank', title: 'Range Not Satisfiable', status: 416, detail: 'the range starts past the end of the recording', instance: req.url });
        }
      }
      const start = r && r !== 'unsatisfiable' ? r.start : 0;
      const end = r && r !== 'unsatisfiable' ? r.end : size - 1;
      if (r && r !== 'unsatisfiable') reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
      reply.header('content-length', String(Math.max(0, end - start + 1)));
      if (size === 0) return reply.send('');
      const deadline = new Date(Date.now() + 60_000);
      async function* pieces() {
        for (let at = start; at <= end; ) {
          const limit = Math.min(PIECE, end - at + 1);
          const c = await clients.calls.fetchRecording({ callId, offset: at, limit }, ctx, { deadline });
          if (!c.data.length) return;
          yield Buffer.from(c.data);
          at += c.data.length;
        }
      }
      return reply.send(Readable.from(pieces()));
    },
  );
}

/** The card of a call: its optional parts fetched at once, each with its own short deadline. */
async function callCard(deps: GatewayDeps, call: Call, ctx: TenantContext, scopes: ReadonlySet<string>) {
  const { clients } = deps;
  const opts = { deadlineMs: CARD_PART_MS };
  const partial: string[] = [];
  const contactId = call.contactId;
  const canContacts = scopes.has('contacts:read');
  const canDeals = scopes.has('deals:read');
  const canRequests = scopes.has('requests:read');
  const [request, contact, cards, recent, deals] = await Promise.all([
    call.requestId && canRequests ? part(clients.intake.getRequest({ id: call.requestId }, ctx, opts)) : undefined,
    contactId && canContacts ? part(clients.contacts.getContact({ id: contactId }, ctx, opts)) : undefined,
    contactId && canContacts ? part(clients.clientCards.listClientCards(ListClientCardsRequest.fromPartial({ contactId, pageSize: 1 }), ctx, opts)) : undefined,
    contactId && canRequests ? part(clients.intake.listRequests(ListRequestsRequest.fromPartial({ contactId, pageSize: 5 }), ctx, opts)) : undefined,
    canDeals && (contactId || call.requestId)
      ? part(
          contactId
            ? clients.deals.listDeals(ListDealsRequest.fromPartial({ contactId, states: [DealState.DEAL_STATE_OPEN], pageSize: 10 }), ctx, opts).then((r) => r.deals)
            : clients.deals.listDealsOfRequest({ requestId: call.requestId }, ctx, opts).then((r) => r.deals.filter((d) => d.state === DealState.DEAL_STATE_OPEN)),
        )
      : undefined,
  ]);
  if (request && !request.ok && !request.missing) partial.push('request');
  if ((contact && !contact.ok && !contact.missing) || (cards && !cards.ok && !cards.missing)) partial.push('contact');
  if (deals && !deals.ok && !deals.missing) partial.push('deals');
  if (recent && !recent.ok && !recent.missing) partial.push('recent_requests');

  let contactOut = null;
  if (contact?.ok) {
    const c = contact.value.contact!;
    const card = cards?.ok ? cards.value.cards[0] : undefined;
    let companyName: string | null = null;
    if (c.companyId) {
      const company = await part(clients.companies.getCompany({ id: c.companyId }, ctx, opts));
      if (company.ok) companyName = company.value.company?.name ?? null;
    }
    contactOut = {
      id: c.id,
      name: c.name,
      company_id: c.companyId || null,
      company_name: companyName,
      client_card_id: card?.id ?? null,
      state: card && card.state !== ClientState.CLIENT_STATE_UNSPECIFIED ? CLIENT_STATES.out(card.state) : null,
      kind: card && card.kind !== ClientKind.CLIENT_KIND_UNSPECIFIED ? CLIENT_KINDS.out(card.kind) : null,
      owner_id: card?.ownerId || null,
    };
  }
  return {
    call: callOut(call),
    request: request?.ok ? requestOut(request.value.request!) : null,
    contact: contactOut,
    deals: deals?.ok ? deals.value.map(dealOut) : [],
    recent_requests: recent?.ok ? recent.value.requests.slice(0, 5).map(requestOut) : [],
    partial,
  };
}
