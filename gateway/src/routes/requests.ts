import { DomainError } from '@crm/errors';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { attributionIn, channelIn, CHANNELS, commentOut, requestOut, stateIn, STATES, type AttributionIn } from '../mappers';
import { createRequestBody, errorResponses, idParam } from '../schemas';
import type { GatewayDeps } from '../app';

const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

export async function requestRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.post<{
    Body: { channel: string; name?: string; phone?: string; email?: string; message?: string; attribution?: AttributionIn };
    Headers: { 'idempotency-key'?: string };
  }>(
    '/v1/requests',
    {
      schema: {
        tags: ['requests'],
        summary: 'Create a request',
        description: 'Classifies the request on arrival. With `Idempotency-Key`, a retry replays the first response; the same key with another body is a 422.',
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 255 } } },
        body: createRequestBody,
        response: { 201: { $ref: 'Request#' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:write');
      const key = req.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY_RE.test(key)) {
        throw new DomainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1..255 printable ASCII characters', { violations: [{ field: 'Idempotency-Key', message: 'invalid' }] });
      }
      const b = req.body;
      const res = await clients.intake.createRequest(
        {
          channel: channelIn(b.channel),
          name: b.name ?? '',
          phone: b.phone ?? '',
          email: b.email ?? '',
          message: b.message ?? '',
          attribution: attributionIn(b.attribution),
          idempotencyKey: key ?? '',
          publicFormId: '',
          defaultCountry: deps.env.DEFAULT_PHONE_COUNTRY,
        },
        caller.tenant,
      );
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/v1/requests/${res.request!.id}`).send(requestOut(res.request!));
    },
  );

  app.get<{ Querystring: { state?: string[]; channel?: string[]; created_from?: string; created_to?: string; q?: string; limit?: number; cursor?: string } }>(
    '/v1/requests',
    {
      schema: {
        tags: ['requests'],
        summary: 'List requests, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'array', items: { type: 'string', enum: STATES }, maxItems: STATES.length },
            channel: { type: 'array', items: { type: 'string', enum: CHANNELS }, maxItems: CHANNELS.length },
            created_from: { type: 'string', format: 'date-time' },
            created_to: { type: 'string', format: 'date-time' },
            q: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
            cursor: { type: 'string', maxLength: 500 },
          },
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: { $ref: 'Request#' } }, next_cursor: { type: ['string', 'null'] } } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:read');
      const q = req.query;
      const res = await clients.intake.listRequests(
        {
          states: (q.state ?? []).map(stateIn),
          channels: (q.channel ?? []).map(channelIn),
          createdFrom: q.created_from ?? '',
          createdTo: q.created_to ?? '',
          query: q.q ?? '',
          pageSize: q.limit ?? 25,
          cursor: q.cursor ?? '',
        },
        caller.tenant,
      );
      return { items: res.requests.map(requestOut), next_cursor: res.nextCursor || null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/requests/:id',
    { schema: { tags: ['requests'], summary: 'Get a request', params: idParam, response: { 200: { $ref: 'Request#' }, ...errorResponses } } },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.intake.getRequest({ id: req.params.id }, req.caller!.tenant);
      return requestOut(res.request!);
    },
  );

  app.post<{ Params: { id: string }; Body: { text: string } }>(
    '/v1/requests/:id/comments',
    {
      schema: {
        tags: ['requests'],
        summary: 'Comment on a request (never changes its state)',
        params: idParam,
        body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 4000 } } },
        response: { 201: { $ref: 'Comment#' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const res = await clients.intake.addComment({ requestId: req.params.id, text: req.body.text }, req.caller!.tenant);
      return reply.code(201).send(commentOut(res.comment!));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/requests/:id/comments',
    {
      schema: {
        tags: ['requests'],
        summary: "A request's comments, oldest first",
        params: idParam,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: { $ref: 'Comment#' } } } }, ...errorResponses },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.intake.listComments({ requestId: req.params.id }, req.caller!.tenant);
      return { items: res.comments.map(commentOut) };
    },
  );
}
