import { Deal, ListDealsRequest } from '@crm/contracts/crm/funnel/v1/deals';
import { Pipeline } from '@crm/contracts/crm/funnel/v1/pipelines';
import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError, type TenantContext } from '@crm/grpc';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import type { Clients } from '../clients';
import type { GatewayDeps } from '../deps';
import {
  boardFilterIn,
  boardOut,
  dealCreateIn,
  dealOut,
  dealUpdateIn,
  definitionIn,
  DEAL_STATES,
  linkedRequestOut,
  mappingIn,
  pipelineOut,
  previewOut,
  stageChangeOut,
  violationOut,
  type BoardQuery,
  type DealBody,
  type DealChangeBody,
  type DefinitionBody,
  type MappingBody,
} from '../funnel-mappers';
import { boardFilterQuery, dealListQuery, funnelId, funnelNamedSchemas, stageCursorQuery, stageKey } from '../funnel-schemas';
import { AUTHENTICATED, idParam, json, problems, WITH_BODY } from '../schemas';
import { createdHeaders, idempotencyHeaders, idempotencyKey } from './contacts';

/** Pipelines, deals and the board (funnel's PipelineService and DealService). */
export const funnelSchemas: { $id: string }[] = funnelNamedSchemas;

/** A pipeline's or deal's id in the path (what funnel accepts as one). */
const funnelIdParam = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: funnelId } } as const;
const boardStageParams = { type: 'object', additionalProperties: false, required: ['id', 'stage'], properties: { id: funnelId, stage: stageKey } } as const;
const checklistParams = { type: 'object', additionalProperties: false, required: ['id', 'item_key'], properties: { id: funnelId, item_key: stageKey } } as const;

interface DealListQuery extends BoardQuery {
  pipeline_id?: string;
  stage?: string;
  state?: string;
  client_card_id?: string;
  contact_id?: string;
  company_id?: string;
  close_from?: string;
  close_to?: string;
  limit?: number;
  cursor?: string;
}

interface BoardParams {
  limit?: number;
  closed_days?: number;
  cursor?: string;
}

/** Links for stateful clients and fuzzers: from a pipeline or a deal to its reads and writes. */
const pipelineLinks = (id: string) => ({
  GetPipeline: { operationId: 'getPipeline', parameters: { id }, description: 'The pipeline' },
  GetBoard: { operationId: 'getBoard', parameters: { id }, description: 'Its board' },
  UpdatePipeline: { operationId: 'updatePipeline', parameters: { id }, description: 'A new version of it' },
});
const dealLinks = (id: string) => ({
  GetDeal: { operationId: 'getDeal', parameters: { id }, description: 'The deal' },
  MoveDeal: { operationId: 'moveDeal', parameters: { id }, description: 'Move it to another stage' },
  GetDealHistory: { operationId: 'getDealHistory', parameters: { id }, description: 'Its stage history' },
});

/** Runs a change; a stale version (ABORTED) becomes a 412 whose `current` is the record as it is now. */
async function withCurrent<T>(change: Promise<T>, current: () => Promise<object>): Promise<T> {
  try {
    return await change;
  } catch (err) {
    const e = isServiceError(err) ? fromServiceError(err) : err;
    if (!(e instanceof DomainError) || e.code !== 'CONFLICT' || e.details.current !== undefined) throw e;
    let now: object;
    try {
      now = await current();
    } catch {
      throw e;
    }
    throw new DomainError('CONFLICT', e.message, { details: { ...e.details, current: now } });
  }
}

const dealCurrent = (clients: Clients, id: string, ctx: TenantContext) => async () => {
  const d = (await clients.deals.getDeal({ id }, ctx)).deal!;
  return Deal.toJSON(d) as object;
};

/**
 * The client card, partner card, company and contacts a deal refers to must be the tenant's (contacts
 * answers NOT_FOUND for another tenant's): funnel keeps the ids and cannot check them itself.
 */
async function checkReferences(clients: Clients, ctx: TenantContext, b: { client_card_id?: string | null; partner_card_id?: string | null; company_id?: string | null; contact_ids?: string[] }) {
  const checks: Promise<unknown>[] = [];
  if (b.client_card_id) checks.push(clients.clientCards.getClientCard({ id: b.client_card_id }, ctx));
  if (b.partner_card_id) checks.push(clients.clientCards.getClientCard({ id: b.partner_card_id }, ctx));
  if (b.company_id) checks.push(clients.companies.getCompany({ id: b.company_id }, ctx));
  for (const id of b.contact_ids ?? []) checks.push(clients.contacts.getContact({ id }, ctx));
  await Promise.all(checks);
}

/**
 * Pipelines (read `deals:read`, write `pipelines:write`), deals (`deals:read` / `deals:write`), the board,
 * a request's deals. Funnel decides what a caller may see (a seller: their own and their departments'
 * deals) and answers NOT_FOUND for anything else, another tenant's included.
 */
export async function funnelRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  // ---- pipelines -------------------------------------------------------------------------------------------

  app.get<{ Querystring: { include_archived?: boolean } }>(
    '/v1/pipelines',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'listPipelines',
        summary: "The tenant's pipelines (archived ones with include_archived)",
        querystring: { type: 'object', additionalProperties: false, properties: { include_archived: { type: 'boolean', default: false } } },
        response: { 200: json('The pipelines', { $ref: 'PipelineList#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const res = await clients.pipelines.listPipelines({ includeArchived: req.query.include_archived === true }, req.caller!.tenant);
      return { items: res.pipelines.map(pipelineOut) };
    },
  );

  app.post<{ Body: DefinitionBody }>(
    '/v1/pipelines/validate',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'validatePipeline',
        summary: 'Check a definition without storing it (the editor calls it as you type)',
        description: 'Every problem at once, each with a path into the definition and a code; none: the definition is valid.',
        body: { $ref: 'PipelineDefinition#' },
        response: { 200: json('The problems of the definition', { $ref: 'PipelineValidation#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'pipelines:write');
      const res = await clients.pipelines.validatePipeline({ definition: definitionIn(req.body) }, req.caller!.tenant);
      return { violations: res.violations.map(violationOut) };
    },
  );

  app.post<{ Body: DefinitionBody }>(
    '/v1/pipelines',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'createPipeline',
        summary: 'Create a pipeline (version 1)',
        description: 'An invalid definition is a 400 with `violations` (every problem at once); a name another pipeline of the tenant has is a 409. Needs an admin or a head of sales.',
        body: { $ref: 'PipelineDefinition#' },
        response: {
          201: json('Created', { $ref: 'Pipeline#' }, { location: { type: 'string', description: 'The new pipeline: /v1/pipelines/{id}' } }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 409),
        },
      },
      links: { 201: pipelineLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'pipelines:write');
      const p = (await clients.pipelines.createPipeline({ definition: definitionIn(req.body) }, req.caller!.tenant)).pipeline!;
      return reply.code(201).header('location', `/v1/pipelines/${p.id}`).send(pipelineOut(p));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { version?: number } }>(
    '/v1/pipelines/:id',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'getPipeline',
        summary: 'A pipeline at its current version (or at `version`)',
        params: funnelIdParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1, maximum: 2147483647, description: 'An older version of the definition (a deal on it shows its stages); a version that does not exist is a 404' } },
        },
        response: { 200: json('The pipeline', { $ref: 'Pipeline#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const res = await clients.pipelines.getPipeline({ id: req.params.id, version: req.query.version ?? 0 }, req.caller!.tenant);
      return pipelineOut(res.pipeline!);
    },
  );

  app.put<{ Params: { id: string }; Body: DefinitionBody & { expected_version?: number } }>(
    '/v1/pipelines/:id',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'updatePipeline',
        summary: 'Store a new version of the definition',
        description:
          'Deals stay on their version until migrated (POST …/migration). With `expected_version`, a pipeline changed since is a 412 with `current`. An invalid definition is a 400 with `violations`.',
        params: funnelIdParam,
        body: { $ref: 'UpdatePipeline#' },
        response: { 200: json('The pipeline at its new version', { $ref: 'Pipeline#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'pipelines:write');
      const { expected_version, ...definition } = req.body;
      const ctx = req.caller!.tenant;
      const res = await withCurrent(
        clients.pipelines.updatePipeline({ id: req.params.id, expectedVersion: expected_version ?? 0, definition: definitionIn(definition) }, ctx),
        async () => Pipeline.toJSON((await clients.pipelines.getPipeline({ id: req.params.id, version: 0 }, ctx)).pipeline!) as object,
      );
      return pipelineOut(res.pipeline!);
    },
  );

  app.post<{ Params: { id: string }; Body: { archived: boolean } }>(
    '/v1/pipelines/:id/archive',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'archivePipeline',
        summary: 'Archive a pipeline (hidden from the board and from new deals) or restore it',
        description: 'Restoring a pipeline whose name another pipeline took meanwhile is a 409.',
        params: funnelIdParam,
        body: { $ref: 'PipelineArchive#' },
        response: { 200: json('The pipeline', { $ref: 'Pipeline#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'pipelines:write');
      const res = await clients.pipelines.archivePipeline({ id: req.params.id, archived: req.body.archived }, req.caller!.tenant);
      return pipelineOut(res.pipeline!);
    },
  );

  app.post<{ Params: { id: string }; Body: { mapping: MappingBody[] } }>(
    '/v1/pipelines/:id/migration/preview',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'previewPipelineMigration',
        summary: 'How many open deals of older versions a mapping would move where',
        description: 'Old stages that hold deals and are left out of the mapping are listed as `unmapped_stages` (applying would be refused).',
        params: funnelIdParam,
        body: { $ref: 'MigrationMapping#' },
        response: { 200: json('The preview', { $ref: 'MigrationPreview#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'pipelines:write');
      const res = await clients.pipelines.previewMigration({ pipelineId: req.params.id, mapping: mappingIn(req.body.mapping) }, req.caller!.tenant);
      return previewOut(res);
    },
  );

  app.post<{ Params: { id: string }; Body: { mapping: MappingBody[]; expected_total: number } }>(
    '/v1/pipelines/:id/migration',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'applyPipelineMigration',
        summary: 'Move the open deals of older versions to the current one by a mapping, in one transaction',
        description: 'Each deal whose stage changes gets a `migrated` history entry. An old stage holding deals left unmapped is a 409; an `expected_total` that is no longer the preview\'s total is a 409 (preview again).',
        params: funnelIdParam,
        body: { $ref: 'MigrationApply#' },
        response: { 200: json('Applied', { $ref: 'MigrationResult#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'pipelines:write');
      const res = await clients.pipelines.applyMigration({ pipelineId: req.params.id, mapping: mappingIn(req.body.mapping), expectedTotal: req.body.expected_total }, req.caller!.tenant);
      return { moved: res.moved, pipeline: pipelineOut(res.pipeline!) };
    },
  );

  // ---- the board ---------------------------------------------------------------------------------------------

  app.get<{ Params: { id: string }; Querystring: BoardQuery & BoardParams }>(
    '/v1/pipelines/:id/board',
    {
      schema: {
        tags: ['deals'],
        operationId: 'getBoard',
        summary: 'The board of a pipeline: for every stage, the count, the amounts per currency and the first page of deals',
        description: 'Only the deals you may see, with the filters. Won and lost columns show the deals closed in the last `closed_days` days.',
        params: funnelIdParam,
        querystring: { type: 'object', additionalProperties: false, properties: boardFilterQuery },
        response: { 200: json('The board', { $ref: 'Board#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const q = req.query;
      const ctx = req.caller!.tenant;
      const res = await clients.deals.getBoard({ pipelineId: req.params.id, filter: boardFilterIn(q, ctx.callerId), pageSize: q.limit ?? 20, closedDays: q.closed_days ?? 30 }, ctx);
      return boardOut(res);
    },
  );

  app.get<{ Params: { id: string; stage: string }; Querystring: BoardQuery & BoardParams }>(
    '/v1/pipelines/:id/board/:stage',
    {
      schema: {
        tags: ['deals'],
        operationId: 'listStageDeals',
        summary: 'The next page of one column of the board',
        description: "Pass the column's `next_cursor` as `cursor`, with the board's filters unchanged. A stage the pipeline does not have is a 400.",
        params: boardStageParams,
        querystring: { type: 'object', additionalProperties: false, properties: { ...boardFilterQuery, ...stageCursorQuery } },
        response: { 200: json('A page of the column', { $ref: 'DealPage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const q = req.query;
      const ctx = req.caller!.tenant;
      const res = await clients.deals.listStageDeals(
        { pipelineId: req.params.id, stage: req.params.stage, filter: boardFilterIn(q, ctx.callerId), pageSize: q.limit ?? 20, cursor: q.cursor ?? '', closedDays: q.closed_days ?? 30 },
        ctx,
      );
      return { items: res.deals.map(dealOut), next_cursor: res.nextCursor || null };
    },
  );

  // ---- deals ---------------------------------------------------------------------------------------------------

  app.get<{ Querystring: DealListQuery }>(
    '/v1/deals',
    {
      schema: {
        tags: ['deals'],
        operationId: 'listDeals',
        summary: 'Search and filter deals, newest first',
        description: 'Only the deals you may see; every filter given must hold.',
        querystring: { type: 'object', additionalProperties: false, properties: dealListQuery },
        response: { 200: json('A page of deals', { $ref: 'DealPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const q = req.query;
      const ctx = req.caller!.tenant;
      if (q.close_from && q.close_to && q.close_to < q.close_from) {
        throw new DomainError('INVALID_ARGUMENT', 'close_to is before close_from', { violations: [{ field: 'close_to', message: 'must not be before close_from' }] });
      }
      const filter = boardFilterIn(q, ctx.callerId);
      const res = await clients.deals.listDeals(
        ListDealsRequest.fromPartial({
          pageSize: q.limit ?? 50,
          cursor: q.cursor ?? '',
          q: q.q ?? '',
          pipelineId: q.pipeline_id ?? '',
          stages: q.stage ? [q.stage] : [],
          states: q.state ? [DEAL_STATES.in(q.state)] : [],
          ownerIds: filter.ownerIds,
          departmentIds: filter.departmentIds,
          salesChannels: filter.salesChannels,
          clientCardId: q.client_card_id ?? '',
          contactId: q.contact_id ?? '',
          companyId: q.company_id ?? '',
          projectId: q.project_id ?? '',
          closeFrom: q.close_from ?? '',
          closeTo: q.close_to ?? '',
        }),
        ctx,
      );
      return { items: res.deals.map(dealOut), next_cursor: res.nextCursor || null };
    },
  );

  app.post<{ Body: DealBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/deals',
    {
      schema: {
        tags: ['deals'],
        operationId: 'createDeal',
        summary: 'Create a deal',
        description:
          "With `Idempotency-Key`, a retry answers the first deal (200, `Idempotent-Replayed: true`); the same key with another body is a 422. Another tenant's pipeline, client card, company or contact is a 404; a stage whose guard does not hold a 409.",
        headers: idempotencyHeaders,
        body: { $ref: 'CreateDeal#' },
        response: {
          201: json('Created', { $ref: 'Deal#' }, createdHeaders('deal: /v1/deals/{id}')),
          200: json('A retry with the same Idempotency-Key: the deal it made', { $ref: 'Deal#' }, createdHeaders('deal: /v1/deals/{id}')),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 422),
        },
      },
      links: { 201: dealLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'deals:write');
      const key = idempotencyKey(req.headers['idempotency-key']);
      const ctx = req.caller!.tenant;
      await checkReferences(clients, ctx, req.body);
      const res = await clients.deals.createDeal(dealCreateIn(req.body, key), ctx);
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .code(res.replayed ? 200 : 201)
        .header('location', `/v1/deals/${res.deal!.id}`)
        .send(dealOut(res.deal!));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/deals/:id',
    {
      schema: {
        tags: ['deals'],
        operationId: 'getDeal',
        summary: 'A deal with its checklist and the requests linked to it',
        params: funnelIdParam,
        response: { 200: json('The deal', { $ref: 'DealDetail#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: dealLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const res = await clients.deals.getDeal({ id: req.params.id }, req.caller!.tenant);
      return { ...dealOut(res.deal!), requests: res.requests.map(linkedRequestOut) };
    },
  );

  app.patch<{ Params: { id: string }; Body: DealChangeBody }>(
    '/v1/deals/:id',
    {
      schema: {
        tags: ['deals'],
        operationId: 'updateDeal',
        summary: "Change a deal's fields",
        description: 'With `expected_version`, a deal changed since is a 412 with `current`. Stage moves are POST …/move.',
        params: funnelIdParam,
        body: { $ref: 'UpdateDeal#' },
        response: { 200: json('The deal after the change', { $ref: 'Deal#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:write');
      const ctx = req.caller!.tenant;
      await checkReferences(clients, ctx, req.body);
      const res = await withCurrent(clients.deals.updateDeal(dealUpdateIn(req.params.id, req.body), ctx), dealCurrent(clients, req.params.id, ctx));
      return dealOut(res.deal!);
    },
  );

  app.post<{ Params: { id: string }; Body: { to_stage: string; lost_reason?: string; comment?: string; expected_version?: number } }>(
    '/v1/deals/:id/move',
    {
      schema: {
        tags: ['deals'],
        operationId: 'moveDeal',
        summary: 'Move a deal to another stage',
        description:
          "A move the pipeline's definition does not allow is a 409 with `stage` and `allowed` (the stage keys it may go to); a guard that fails is a 409 with `stage`, `guard` (`required_fields` / `checklist_complete`) and `missing`; a lost stage without one of the pipeline's lost reasons is a 400; a stale `expected_version` a 412 with `current`.",
        params: funnelIdParam,
        body: { $ref: 'MoveDeal#' },
        response: { 200: json('The deal at its new stage', { $ref: 'Deal#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:write');
      const b = req.body;
      const ctx = req.caller!.tenant;
      const res = await withCurrent(
        clients.deals.moveDeal({ id: req.params.id, toStage: b.to_stage, lostReason: b.lost_reason ?? '', comment: b.comment ?? '', expectedVersion: b.expected_version ?? 0 }, ctx),
        dealCurrent(clients, req.params.id, ctx),
      );
      return dealOut(res.deal!);
    },
  );

  app.post<{ Params: { id: string }; Body: { to_stage?: string; comment?: string; expected_version?: number } }>(
    '/v1/deals/:id/reopen',
    {
      schema: {
        tags: ['deals'],
        operationId: 'reopenDeal',
        summary: 'Reopen a won or lost deal',
        description: 'At `to_stage` (an open stage of its version) or the first stage. A deal that is open is a 409.',
        params: funnelIdParam,
        body: { $ref: 'ReopenDeal#' },
        response: { 200: json('The deal, open again', { $ref: 'Deal#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409, 412) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:write');
      const b = req.body ?? {};
      const ctx = req.caller!.tenant;
      const res = await withCurrent(
        clients.deals.reopenDeal({ id: req.params.id, toStage: b.to_stage ?? '', comment: b.comment ?? '', expectedVersion: b.expected_version ?? 0 }, ctx),
        dealCurrent(clients, req.params.id, ctx),
      );
      return dealOut(res.deal!);
    },
  );

  app.put<{ Params: { id: string; item_key: string }; Body: { checked: boolean } }>(
    '/v1/deals/:id/checklist/:item_key',
    {
      schema: {
        tags: ['deals'],
        operationId: 'setDealChecklistItem',
        summary: "Tick or untick an item of the checklist of the deal's current stage",
        description: 'Who ticked it and when are kept. An item the current stage does not have is a 404.',
        params: checklistParams,
        body: { $ref: 'ChecklistTick#' },
        response: { 200: json('The deal with its checklist', { $ref: 'Deal#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:write');
      const res = await clients.deals.setChecklistItem({ dealId: req.params.id, itemKey: req.params.item_key, checked: req.body.checked }, req.caller!.tenant);
      return dealOut(res.deal!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/deals/:id/history',
    {
      schema: {
        tags: ['deals'],
        operationId: 'getDealHistory',
        summary: "A deal's stage history, oldest first",
        params: funnelIdParam,
        response: { 200: json('The history', { $ref: 'StageChangeList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      const res = await clients.deals.getDealHistory({ dealId: req.params.id }, req.caller!.tenant);
      return { items: res.changes.map(stageChangeOut) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/requests/:id/deals',
    {
      schema: {
        tags: ['deals'],
        operationId: 'listRequestDeals',
        summary: 'The deals a request went to (converted into or attached to)',
        params: idParam,
        response: { 200: json('The deals', { $ref: 'DealList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'deals:read');
      requireScope(req.caller!, 'requests:read');
      const ctx = req.caller!.tenant;
      // The request first: another tenant's (or no) request is a 404, not an empty list.
      await clients.intake.getRequest({ id: req.params.id }, ctx);
      const res = await clients.deals.listDealsOfRequest({ requestId: req.params.id }, ctx);
      return { items: res.deals.map((d: Deal) => dealOut(d)) };
    },
  );
}
