import {
  CreateContactRequest,
  GetTimelineRequest,
  ListContactsRequest,
  ListDuplicatesRequest,
  PointType,
  UpdateContactRequest,
  type PointInput,
} from '@crm/contracts/crm/contacts/v1/contacts';
import { ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import { DomainError } from '@crm/errors';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { contactOut, duplicateOut, mergeOut, NETWORKS, pointIn, timelineEntryOut, VERIFICATIONS, type PointBody } from '../contacts-mappers';
import { pageQuery, searchQuery } from '../contacts-schemas';
import type { GatewayDeps } from '../deps';
import { requestOut } from '../mappers';
import { AUTHENTICATED, idParam, json, problems, uuid, WITH_BODY } from '../schemas';

/** Printable ASCII, 1..200 characters: what the services keep as an idempotency key. */
export const IDEMPOTENCY_KEY = '^[\\x21-\\x7e]{1,200}$';
const IDEMPOTENCY_KEY_RE = new RegExp(IDEMPOTENCY_KEY);
export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY, description: '1..200 printable ASCII characters; a retry with it replays the first response, another body with it is a 422' } },
} as const;
export const createdHeaders = (what: string) => ({
  location: { type: 'string', description: `The new ${what}` },
  'idempotent-replayed': { type: 'string', enum: ['true'], description: 'Present when the response is a replay' },
});

/** The Idempotency-Key header, checked (the schema says so too; this also covers a repeated header). */
export function idempotencyKey(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_RE.test(value)) {
    throw new DomainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1..200 printable ASCII characters', { violations: [{ field: 'Idempotency-Key', message: 'invalid' }] });
  }
  return value;
}

export const pageParams = (extra: Record<string, object> = {}) => ({ type: 'object', additionalProperties: false, properties: { ...extra, ...pageQuery } }) as const;
export interface PageQuery {
  page_size?: number;
  cursor?: string;
}
export const nextCursor = (c: string) => c || null;

const pointParams = { type: 'object', additionalProperties: false, required: ['id', 'pointId'], properties: { id: uuid, pointId: uuid } } as const;

/** Links for stateful clients and fuzzers: from a contact to its reads and writes. */
const contactLinks = (id: string) => ({
  GetContact: { operationId: 'getContact', parameters: { id }, description: 'The contact' },
  UpdateContact: { operationId: 'updateContact', parameters: { id }, description: 'Rename it or change its company' },
  AddContactPoint: { operationId: 'addContactPoint', parameters: { id }, description: 'Add a point' },
  GetContactTimeline: { operationId: 'getContactTimeline', parameters: { id }, description: 'Its communication timeline' },
  ListContactRequests: { operationId: 'listContactRequests', parameters: { id }, description: 'Its requests' },
  ListContactMerges: { operationId: 'listContactMerges', parameters: { id }, description: 'Its merges' },
});

/**
 * Contacts and their points, lookup by a point, the communication timeline, a contact's requests and
 * merges, probable duplicates and merges (contacts' ContactsService; requests from intake).
 */
export async function contactRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;
  const country = deps.env.DEFAULT_PHONE_COUNTRY;

  app.get<{ Querystring: PageQuery & { query?: string; company_id?: string } }>(
    '/v1/contacts',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'listContacts',
        summary: 'List or search contacts, newest first',
        description: 'Searches names (case-insensitive, Cyrillic included), e-mails, social handles and phone digits however typed. Merged contacts are left out.',
        querystring: pageParams({ query: searchQuery, company_id: { ...uuid, description: 'Only the contacts of this company' } }),
        response: { 200: json('A page of contacts', { $ref: 'ContactPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const q = req.query;
      const res = await clients.contacts.listContacts(
        ListContactsRequest.fromPartial({ query: q.query ?? '', companyId: q.company_id ?? '', pageSize: q.page_size ?? 25, cursor: q.cursor ?? '' }),
        req.caller!.tenant,
      );
      return { items: res.contacts.map(contactOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.post<{ Body: { name?: string; company_id?: string; points?: PointBody[] }; Headers: { 'idempotency-key'?: string } }>(
    '/v1/contacts',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'createContact',
        summary: 'Create a contact',
        description:
          'Phones are stored as E.164 (read with the default country when written without `+code`), e-mails in lower case. A point another contact already has is a 409 naming it (`owner_contact_id`, `owner`). With `Idempotency-Key`, a retry replays the first response; the same key with another body is a 422. Every new contact gets a `not_client` / `direct` client card.',
        headers: idempotencyHeaders,
        body: { $ref: 'CreateContact#' },
        response: {
          201: json('Created (or, with a repeated Idempotency-Key, the first response replayed)', { $ref: 'Contact#' }, createdHeaders('contact: /v1/contacts/{id}')),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 422),
        },
      },
      links: { 201: contactLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'contacts:write');
      const key = idempotencyKey(req.headers['idempotency-key']);
      const b = req.body;
      const res = await clients.contacts.createContact(
        CreateContactRequest.fromPartial({ name: b.name ?? '', companyId: b.company_id ?? '', points: (b.points ?? []).map(pointIn), idempotencyKey: key, defaultCountry: country }),
        req.caller!.tenant,
      );
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/v1/contacts/${res.contact!.id}`).send(contactOut(res.contact!));
    },
  );

  app.get<{ Querystring: { phone?: string; email?: string; network?: string; handle?: string } }>(
    '/v1/contacts/lookup',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'lookupContact',
        summary: 'The contact that owns a phone, an e-mail or a social handle',
        description: 'Exactly one of `phone`, `email`, or `network` with `handle` (else a 400). A phone may be typed any common way. 404 when nobody has it.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            phone: { type: 'string', minLength: 1, maxLength: 64, pattern: '\\d', description: 'Any common notation' },
            email: { type: 'string', format: 'idn-email', maxLength: 254, description: 'Any case' },
            network: { type: 'string', enum: NETWORKS },
            handle: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000]*\\S[^\\u0000]*$', description: 'With `network`: the id or handle (a leading @ is dropped)' },
          },
        },
        response: { 200: json('The contact', { $ref: 'Contact#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: contactLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const q = req.query;
      const given = [q.phone !== undefined, q.email !== undefined, q.network !== undefined || q.handle !== undefined].filter(Boolean).length;
      if (given !== 1 || (q.network === undefined) !== (q.handle === undefined)) {
        throw new DomainError('INVALID_ARGUMENT', 'give exactly one of phone, email, or network with handle', {
          violations: [{ field: '(query)', message: 'exactly one of phone, email, or network with handle' }],
        });
      }
      const point: PointInput =
        q.phone !== undefined
          ? { type: PointType.POINT_TYPE_PHONE, value: q.phone, network: '', verified: false }
          : q.email !== undefined
            ? { type: PointType.POINT_TYPE_EMAIL, value: q.email, network: '', verified: false }
            : { type: PointType.POINT_TYPE_SOCIAL, value: q.handle!, network: q.network!, verified: false };
      const res = await clients.contacts.lookupContact({ point, defaultCountry: country }, req.caller!.tenant);
      return contactOut(res.contact!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'getContact',
        summary: 'Get a contact with its points',
        description: 'A contact merged into another is returned with `merged_into_id` set.',
        params: idParam,
        response: { 200: json('The contact', { $ref: 'Contact#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: contactLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.contacts.getContact({ id: req.params.id }, req.caller!.tenant);
      return contactOut(res.contact!);
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; company_id?: string | null; expected_version?: number } }>(
    '/v1/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'updateContact',
        summary: "Change a contact's name or company",
        description: 'Optimistic concurrency through the body: with `expected_version`, a contact changed since is a 409 (read it again, retry).',
        params: idParam,
        body: { $ref: 'UpdateContact#' },
        response: { 200: json('The contact after the change', { $ref: 'Contact#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body ?? {};
      const res = await clients.contacts.updateContact(
        UpdateContactRequest.fromPartial({
          id: req.params.id,
          name: b.name,
          companyId: b.company_id === undefined ? undefined : (b.company_id ?? ''),
          expectedVersion: b.expected_version ?? 0,
        }),
        req.caller!.tenant,
      );
      return contactOut(res.contact!);
    },
  );

  app.post<{ Params: { id: string }; Body: PointBody }>(
    '/v1/contacts/:id/points',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'addContactPoint',
        summary: 'Add a phone, e-mail or social point to a contact',
        description: 'A point another contact already has is a 409 naming it (`owner_contact_id`, `owner`).',
        params: idParam,
        body: { $ref: 'PointInput#' },
        response: { 201: json('The contact with the new point', { $ref: 'Contact#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.addContactPoint({ contactId: req.params.id, point: pointIn(req.body), defaultCountry: country }, req.caller!.tenant);
      return reply.code(201).send(contactOut(res.contact!));
    },
  );

  app.delete<{ Params: { id: string; pointId: string } }>(
    '/v1/contacts/:id/points/:pointId',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'removeContactPoint',
        summary: 'Remove a point of a contact',
        params: pointParams,
        response: { 200: json('The contact without the point', { $ref: 'Contact#' }), ...problems(400, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.removeContactPoint({ contactId: req.params.id, pointId: req.params.pointId }, req.caller!.tenant);
      return contactOut(res.contact!);
    },
  );

  app.put<{ Params: { id: string; pointId: string }; Body: { verification: string } }>(
    '/v1/contacts/:id/points/:pointId/verification',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'setPointVerification',
        summary: "Set a point's verification level (recorded with who did it)",
        params: pointParams,
        body: { $ref: 'SetVerification#' },
        response: { 200: json('The contact after the change', { $ref: 'Contact#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.setPointVerification(
        { contactId: req.params.id, pointId: req.params.pointId, verification: VERIFICATIONS.in(req.body.verification) },
        req.caller!.tenant,
      );
      return contactOut(res.contact!);
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/contacts/:id/timeline',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'getContactTimeline',
        summary: "A contact's communication timeline, newest first",
        params: idParam,
        querystring: pageParams(),
        response: { 200: json('A page of the timeline', { $ref: 'TimelinePage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.contacts.getTimeline(
        GetTimelineRequest.fromPartial({ contactId: req.params.id, pageSize: req.query.page_size ?? 25, cursor: req.query.cursor ?? '' }),
        req.caller!.tenant,
      );
      return { items: res.entries.map(timelineEntryOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/contacts/:id/requests',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'listContactRequests',
        summary: "A contact's requests, newest first",
        params: idParam,
        querystring: pageParams(),
        response: { 200: json('A page of requests', { $ref: 'RequestPage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      requireScope(req.caller!, 'requests:read');
      // The contact first: another tenant's (or no) contact is a 404, not an empty page.
      await clients.contacts.getContact({ id: req.params.id }, req.caller!.tenant);
      const res = await clients.intake.listRequests(
        ListRequestsRequest.fromPartial({ contactId: req.params.id, pageSize: req.query.page_size ?? 25, cursor: req.query.cursor ?? '' }),
        req.caller!.tenant,
      );
      return { items: res.requests.map(requestOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/contacts/:id/merges',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'listContactMerges',
        summary: 'The merges of a contact (as survivor or loser), newest first',
        params: idParam,
        response: { 200: json('The merges', { $ref: 'MergeList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.contacts.listMerges({ contactId: req.params.id }, req.caller!.tenant);
      return { items: res.merges.map(mergeOut) };
    },
  );

  app.get<{ Querystring: PageQuery & { status?: string } }>(
    '/v1/duplicates',
    {
      schema: {
        tags: ['duplicates'],
        operationId: 'listDuplicates',
        summary: 'Probable duplicates to resolve, newest first',
        querystring: pageParams({ status: { type: 'string', enum: ['open', 'dismissed', 'merged'], default: 'open' } }),
        response: { 200: json('A page of probable duplicates', { $ref: 'DuplicatePage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const q = req.query;
      const res = await clients.contacts.listDuplicates(ListDuplicatesRequest.fromPartial({ status: q.status ?? 'open', pageSize: q.page_size ?? 25, cursor: q.cursor ?? '' }), req.caller!.tenant);
      return { items: res.duplicates.map(duplicateOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/duplicates/:id/dismiss',
    {
      schema: {
        tags: ['duplicates'],
        operationId: 'dismissDuplicate',
        summary: 'Mark a probable duplicate as not a duplicate',
        params: idParam,
        response: { 200: json('The duplicate, dismissed', { $ref: 'Duplicate#' }), ...problems(400, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.dismissDuplicate({ id: req.params.id }, req.caller!.tenant);
      return duplicateOut(res.duplicate!);
    },
  );

  app.post<{ Body: { survivor_id: string; loser_id: string } }>(
    '/v1/merges',
    {
      schema: {
        tags: ['duplicates'],
        operationId: 'mergeContacts',
        summary: 'Merge one contact into another',
        description:
          "Moves the loser's points, client cards, request and deal links and timeline to the survivor; the loser stays with `merged_into_id`. A contact with itself is a 400, an already merged contact a 409, another tenant's contact a 404. Undo with POST /v1/merges/{id}/undo.",
        body: { $ref: 'CreateMerge#' },
        response: { 201: json('Merged', { $ref: 'MergeResult#' }, { location: { type: 'string', description: 'The survivor: /v1/contacts/{id}' } }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
      links: {
        201: {
          UndoMerge: { operationId: 'undoMerge', parameters: { id: '$response.body#/merge/id' }, description: 'Undo the merge' },
          GetSurvivor: { operationId: 'getContact', parameters: { id: '$response.body#/survivor/id' }, description: 'The survivor' },
        },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.mergeContacts({ survivorId: req.body.survivor_id, loserId: req.body.loser_id }, req.caller!.tenant);
      return reply
        .code(201)
        .header('location', `/v1/contacts/${res.survivor!.id}`)
        .send({ merge: mergeOut(res.merge!), survivor: contactOut(res.survivor!) });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/merges/:id/undo',
    {
      schema: {
        tags: ['duplicates'],
        operationId: 'undoMerge',
        summary: 'Undo a merge, restoring both contacts exactly',
        description: 'A merge already undone, or one that a later merge of either contact depends on, is a 409.',
        params: idParam,
        response: { 200: json('Undone', { $ref: 'MergeResult#' }), ...problems(400, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.contacts.undoMerge({ mergeId: req.params.id }, req.caller!.tenant);
      return { merge: mergeOut(res.merge!), survivor: contactOut(res.survivor!), loser: contactOut(res.loser!) };
    },
  );
}
