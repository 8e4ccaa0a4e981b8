import { DomainError } from '@crm/errors';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { utcInstant } from '../instant';
import { attributionIn, channelIn, commentOut, requestOut, type AttributionIn } from '../mappers';
import { etag, requestFilterIn, type RequestFilterQuery } from '../work-mappers';
import { etagHeader, requestFilterQuery } from '../work-schemas';
import { AUTHENTICATED, idParam, json, problems, WITH_BODY } from '../schemas';
import type { GatewayDeps } from '../deps';

/** Intake keeps keys of up to 200 characters; printable ASCII so that they survive any proxy. */
const IDEMPOTENCY_KEY = '^[\\x21-\\x7e]{1,200}$';
const IDEMPOTENCY_KEY_RE = new RegExp(IDEMPOTENCY_KEY);

/** Links for stateful clients and fuzzers: a created request can be read and commented on by its id. */
const requestLinks = (id: string) => ({
  GetRequest: { operationId: 'getRequest', parameters: { id }, description: 'The request' },
  ListComments: { operationId: 'listComments', parameters: { id }, description: "The request's comments" },
  AddComment: { operationId: 'addComment', parameters: { id }, description: 'Comment on the request' },
});

/** A date-time filter as intake compares it (UTC), or a 400 naming the field. */
function instant(field: string, value: string | undefined): string {
  if (value === undefined) return '';
  const utc = utcInstant(value);
  if (utc === null) throw new DomainError('INVALID_ARGUMENT', `${field} must be an RFC 3339 date-time`, { violations: [{ field, message: 'must be an RFC 3339 date-time' }] });
  return utc;
}

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
        operationId: 'createRequest',
        summary: 'Create a request',
        description: 'Classifies the request on arrival. With `Idempotency-Key`, a retry replays the first response; the same key with another body is a 422.',
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY, description: '1..200 printable ASCII characters' } } },
        body: { $ref: 'CreateRequest#' },
        response: {
          201: json('Created (or, with a repeated Idempotency-Key, the first response replayed)', { $ref: 'Request#' }, {
            location: { type: 'string', description: 'The new request: /v1/requests/{id}' },
            'idempotent-replayed': { type: 'string', enum: ['true'], description: 'Present when the response is a replay' },
          }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 422),
        },
      },
      links: { 201: requestLinks('$response.body#/id') },
    },
    async (req, reply) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:write');
      const key = req.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY_RE.test(key)) {
        throw new DomainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1..200 printable ASCII characters', { violations: [{ field: 'Idempotency-Key', message: 'invalid' }] });
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
          extraFields: [],
          projectId: '',
          dialedNumberKind: '',
          missed: false,
          decided: undefined,
        },
        caller.tenant,
      );
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/v1/requests/${res.request!.id}`).send(requestOut(res.request!));
    },
  );

  app.get<{ Querystring: RequestFilterQuery & { limit?: number; cursor?: string } }>(
    '/v1/requests',
    {
      schema: {
        tags: ['requests'],
        operationId: 'listRequests',
        summary: 'List requests, newest first',
        description: 'Only what you may see (a seller: assigned to them or in their departments; a head: also the departments they head and requests without one; admins, analysts, API keys: all). `order=my_work`: breached first, then by SLA due, then oldest.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...requestFilterQuery,
            order: { type: 'string', enum: ['created_desc', 'my_work'], default: 'created_desc' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
            cursor: { type: 'string', minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' },
          },
        },
        response: { 200: json('A page of requests', { $ref: 'RequestPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:read');
      const q = req.query;
      const filter = requestFilterIn(q, caller.tenant.callerId, { from: instant('created_from', q.created_from), to: instant('created_to', q.created_to) });
      const res = await clients.intake.listRequests({ ...filter, pageSize: q.limit ?? 25, cursor: q.cursor ?? '' }, caller.tenant);
      return { items: res.requests.map(requestOut), next_cursor: res.nextCursor || null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/requests/:id',
    {
      schema: {
        tags: ['requests'],
        operationId: 'getRequest',
        summary: 'Get a request',
        params: idParam,
        response: { 200: json('The request', { $ref: 'Request#' }, etagHeader), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: requestLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.intake.getRequest({ id: req.params.id }, req.caller!.tenant);
      return reply.header('etag', etag(res.request!.version)).send(requestOut(res.request!));
    },
  );

  app.post<{ Params: { id: string }; Body: { text: string } }>(
    '/v1/requests/:id/comments',
    {
      schema: {
        tags: ['requests'],
        operationId: 'addComment',
        summary: 'Comment on a request (never changes its state)',
        params: idParam,
        body: { $ref: 'CreateComment#' },
        response: { 201: json('Created', { $ref: 'Comment#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
      links: { 201: { ListComments: { operationId: 'listComments', parameters: { id: '$request.path.id' } }, GetRequest: { operationId: 'getRequest', parameters: { id: '$request.path.id' } } } },
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
        operationId: 'listComments',
        summary: "A request's comments, oldest first",
        params: idParam,
        response: { 200: json("The request's comments", { $ref: 'CommentPage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.intake.listComments({ requestId: req.params.id }, req.caller!.tenant);
      return { items: res.comments.map(commentOut) };
    },
  );
}
