import { RequestState } from '@crm/contracts/crm/intake/v1/request';
import { TransitionRequestRequest, BulkTransitionRequest, SetAxesRequest } from '@crm/contracts/crm/intake/v1/workflow';
import { DomainError } from '@crm/errors';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { requestOut, stateIn } from '../mappers';
import { AUTHENTICATED, idParam, json, problems, WITH_BODY } from '../schemas';
import { utcInstant } from '../instant';
import { bulkOut, countsOut, etag, expectedVersion, historyEntryOut, meaningIn, myWorkOut, qualificationIn, requestFilterIn, trashReasonIn, viewOut, type RequestFilterQuery } from '../work-mappers';
import { etagHeader, ifMatchHeaders, requestFilterQuery } from '../work-schemas';
import type { Request } from '@crm/contracts/crm/intake/v1/request';

interface IfMatch {
  'if-match'?: string;
}

interface TransitionBody {
  to: string;
  reason?: string;
  trash_reason?: string;
  trash_note?: string;
  revisit_at?: string;
  deal_id?: string;
  client_card_id?: string;
  assignee_id?: string;
  expected_version?: number;
}

/** A date-time of a body or query as intake compares it (UTC), or a 400 naming the field. */
export function utc(field: string, value: string | undefined): string {
  if (value === undefined) return '';
  const v = utcInstant(value);
  if (v === null) throw new DomainError('INVALID_ARGUMENT', `${field} must be an RFC 3339 date-time`, { violations: [{ field, message: 'must be an RFC 3339 date-time' }] });
  return v;
}

/** The request after a change, with its version as the ETag. */
function changed(reply: FastifyReply, r: Request) {
  return reply.header('etag', etag(r.version)).send(requestOut(r));
}

const changeResponses = (what: string) => ({
  200: json(what, { $ref: 'Request#' }, etagHeader),
  ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412),
});

/**
 * Working a request (intake's WorkflowService): lifecycle transitions, assignment, "answered", the axes a
 * person sets, moving to another department, the history, bulk actions, the journal's counters, my work and
 * saved views. Changes take `If-Match: "<version>"` (or `expected_version`); responses carry the new `ETag`.
 */
export async function workRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.post<{ Params: { id: string }; Body: TransitionBody; Headers: IfMatch }>(
    '/v1/requests/:id/transitions',
    {
      schema: {
        tags: ['work'],
        operationId: 'transitionRequest',
        summary: 'Move a request along its lifecycle',
        description:
          'new → assigned | in_progress | deferred | trash | closed | converted | attached; assigned → in_progress | new | …; in_progress → deferred | trash | closed | converted | attached; deferred → new; trash → new. An illegal move is a 409 with `state` and `allowed`; a stale `If-Match` a 412 with `current`.',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'Transition#' },
        response: changeResponses('The request after the move'),
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const b = req.body;
      const res = await clients.workflow.transitionRequest(
        TransitionRequestRequest.fromPartial({
          id: req.params.id,
          expectedVersion: expectedVersion(req.headers['if-match'], b.expected_version),
          to: stateIn(b.to),
          reason: b.reason ?? '',
          trashReason: b.trash_reason ? trashReasonIn(b.trash_reason) : 0,
          trashNote: b.trash_note ?? '',
          revisitAt: utc('revisit_at', b.revisit_at),
          dealId: b.deal_id ?? '',
          clientCardId: b.client_card_id ?? '',
          assigneeId: b.assignee_id ?? '',
        }),
        req.caller!.tenant,
      );
      return changed(reply, res.request!);
    },
  );

  app.post<{ Params: { id: string }; Body: { assignee_id?: string; take?: boolean; expected_version?: number }; Headers: IfMatch }>(
    '/v1/requests/:id/assignment',
    {
      schema: {
        tags: ['work'],
        operationId: 'assignRequest',
        summary: 'Assign a request to someone, or take it yourself',
        description: '`new` moves to `assigned`; in `assigned` / `in_progress` the assignee changes and the state stays. The assignee must be active and not away (else 409).',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'Assignment#' },
        response: changeResponses('The request after the assignment'),
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const b = req.body;
      const res = await clients.workflow.assignRequest(
        { id: req.params.id, expectedVersion: expectedVersion(req.headers['if-match'], b.expected_version), assigneeId: b.assignee_id ?? '', take: b.take === true },
        req.caller!.tenant,
      );
      return changed(reply, res.request!);
    },
  );

  app.post<{ Params: { id: string }; Body?: { expected_version?: number }; Headers: IfMatch }>(
    '/v1/requests/:id/answered',
    {
      schema: {
        tags: ['work'],
        operationId: 'markAnswered',
        summary: 'Mark a request answered (the first response)',
        description: 'Sets the first response once and moves `new` / `assigned` to `in_progress` (a `new` one is assigned to you first). The body is optional.',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'Answered#' },
        response: changeResponses('The request after the answer'),
      },
      // No body at all is an empty one.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const res = await clients.workflow.markAnswered({ id: req.params.id, expectedVersion: expectedVersion(req.headers['if-match'], req.body?.expected_version) }, req.caller!.tenant);
      return changed(reply, res.request!);
    },
  );

  app.patch<{ Params: { id: string }; Body: { meaning?: string; qualification?: string; reason?: string; expected_version?: number }; Headers: IfMatch }>(
    '/v1/requests/:id/axes',
    {
      schema: {
        tags: ['work'],
        operationId: 'setRequestAxes',
        summary: "Set a request's meaning and/or qualification",
        description: 'The same values again change nothing (no history, no event).',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'AxesChange#' },
        response: changeResponses('The request after the change'),
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const b = req.body;
      const res = await clients.workflow.setAxes(
        SetAxesRequest.fromPartial({
          id: req.params.id,
          expectedVersion: expectedVersion(req.headers['if-match'], b.expected_version),
          meaning: b.meaning ? meaningIn(b.meaning) : 0,
          qualification: b.qualification ? qualificationIn(b.qualification) : 0,
          reason: b.reason ?? '',
        }),
        req.caller!.tenant,
      );
      return changed(reply, res.request!);
    },
  );

  app.post<{ Params: { id: string }; Body: { department_id: string; reason?: string; expected_version?: number }; Headers: IfMatch }>(
    '/v1/requests/:id/department',
    {
      schema: {
        tags: ['work'],
        operationId: 'moveRequestToDepartment',
        summary: "Move a request to another department's queue",
        description: 'The assignee is cleared and the state goes back to `new`. An unknown department is a 400.',
        params: idParam,
        headers: ifMatchHeaders,
        body: { $ref: 'DepartmentMove#' },
        response: changeResponses('The request after the move'),
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:write');
      const b = req.body;
      const res = await clients.workflow.moveToDepartment(
        { id: req.params.id, expectedVersion: expectedVersion(req.headers['if-match'], b.expected_version), departmentId: b.department_id, reason: b.reason ?? '' },
        req.caller!.tenant,
      );
      return changed(reply, res.request!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/requests/:id/history',
    {
      schema: {
        tags: ['work'],
        operationId: 'getRequestHistory',
        summary: "A request's history, oldest first",
        description: 'State, axes, assignment, department, SLA, revisit: who changed what, when and why.',
        params: idParam,
        response: { 200: json('The history', { $ref: 'RequestHistory#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.workflow.getRequestHistory({ id: req.params.id }, req.caller!.tenant);
      return { items: res.entries.map(historyEntryOut) };
    },
  );

  app.post<{ Body: { ids: string[]; assignee_id: string } }>(
    '/v1/requests/bulk/assignment',
    {
      schema: {
        tags: ['work'],
        operationId: 'bulkAssignRequests',
        summary: 'Assign up to 200 requests at once',
        description: 'Each id answers on its own (ok, or the error a single call would give: a request you may not see is `NOT_FOUND`).',
        body: { $ref: 'BulkAssignment#' },
        response: { 200: json('Per-request results', { $ref: 'BulkResult#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:write');
      const res = await clients.workflow.bulkAssign({ ids: req.body.ids, assigneeId: req.body.assignee_id }, req.caller!.tenant);
      return bulkOut(res);
    },
  );

  app.post<{ Body: { ids: string[]; to: string; reason?: string; trash_reason?: string; trash_note?: string; revisit_at?: string } }>(
    '/v1/requests/bulk/transitions',
    {
      schema: {
        tags: ['work'],
        operationId: 'bulkTransitionRequests',
        summary: 'Move up to 200 requests at once',
        description: 'Each id answers on its own (ok, or the error a single call would give).',
        body: { $ref: 'BulkTransition#' },
        response: { 200: json('Per-request results', { $ref: 'BulkResult#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:write');
      const b = req.body;
      const res = await clients.workflow.bulkTransition(
        BulkTransitionRequest.fromPartial({
          ids: b.ids,
          to: stateIn(b.to) as RequestState,
          reason: b.reason ?? '',
          trashReason: b.trash_reason ? trashReasonIn(b.trash_reason) : 0,
          trashNote: b.trash_note ?? '',
          revisitAt: utc('revisit_at', b.revisit_at),
        }),
        req.caller!.tenant,
      );
      return bulkOut(res);
    },
  );

  app.get<{ Querystring: RequestFilterQuery }>(
    '/v1/requests/counts',
    {
      schema: {
        tags: ['work'],
        operationId: 'countRequests',
        summary: "Counters per state for the journal's filter",
        description: 'Takes the filters of `GET /v1/requests` (its `state` is ignored); counts only what you may see.',
        querystring: { type: 'object', additionalProperties: false, properties: requestFilterQuery },
        response: { 200: json('The counters', { $ref: 'RequestCounts#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      requireScope(caller, 'requests:read');
      const q = req.query;
      const filter = requestFilterIn(q, caller.tenant.callerId, { from: utc('created_from', q.created_from), to: utc('created_to', q.created_to) });
      const res = await clients.workflow.countRequests({ filter }, caller.tenant);
      return countsOut(res);
    },
  );

  app.get(
    '/v1/me/work',
    {
      schema: {
        tags: ['work'],
        operationId: 'getMyWork',
        summary: 'My work: open requests, breaches, tasks and revisits due',
        response: { 200: json('The summary', { $ref: 'MyWork#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      return myWorkOut(await clients.workflow.getMyWork({}, req.caller!.tenant));
    },
  );

  app.get(
    '/v1/me/views',
    {
      schema: {
        tags: ['work'],
        operationId: 'listViews',
        summary: 'My saved journal views',
        response: { 200: json('The views', { $ref: 'SavedViewList#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.workflow.listViews({}, req.caller!.tenant);
      return { items: res.views.map(viewOut) };
    },
  );

  app.post<{ Body: { name: string; query: string } }>(
    '/v1/me/views',
    {
      schema: {
        tags: ['work'],
        operationId: 'createView',
        summary: 'Save a journal view',
        description: 'A name you already use is a 409.',
        body: { $ref: 'SaveView#' },
        response: { 201: json('Saved', { $ref: 'SavedView#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 409) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.workflow.saveView({ id: '', name: req.body.name, query: req.body.query }, req.caller!.tenant);
      return reply.code(201).send(viewOut(res.view!));
    },
  );

  app.put<{ Params: { id: string }; Body: { name: string; query: string } }>(
    '/v1/me/views/:id',
    {
      schema: {
        tags: ['work'],
        operationId: 'updateView',
        summary: 'Replace a saved view of yours',
        params: idParam,
        body: { $ref: 'SaveView#' },
        response: { 200: json('Saved', { $ref: 'SavedView#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.workflow.saveView({ id: req.params.id, name: req.body.name, query: req.body.query }, req.caller!.tenant);
      return viewOut(res.view!);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/me/views/:id',
    {
      schema: {
        tags: ['work'],
        operationId: 'deleteView',
        summary: 'Delete a saved view of yours',
        params: idParam,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'requests:read');
      await clients.workflow.deleteView({ id: req.params.id }, req.caller!.tenant);
      return reply.code(204).send();
    },
  );
}
