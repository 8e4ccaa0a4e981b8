import { WorkflowServiceService, type BulkItemResult } from '@crm/contracts/crm/intake/v1/workflow';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { stateName, toProtoRequest } from '../mappers';
import { meaningName, qualificationName, stateEnum, trashReasonName } from '../workflow/names';
import type { BulkItem, WorkflowService } from '../workflow/workflow.service';
import { listInput } from './intake.server';

/** An enum value this build does not know is sent on as `?<n>` so the service names the field. */
function known(name: string, value: number): string {
  return value === 0 ? '' : name || `?${value}`;
}

function bulkOut(r: { results: BulkItem[]; succeeded: number; failed: number }): { results: BulkItemResult[]; succeeded: number; failed: number } {
  return {
    results: r.results.map((i) => ({ id: i.id, ok: i.ok, code: i.code, message: i.message, request: i.request ? toProtoRequest(i.request) : undefined })),
    succeeded: r.succeeded,
    failed: r.failed,
  };
}

/** crm.intake.v1.WorkflowService: handlers only translate; the rules live in workflow/. */
export function workflowService(workflow: WorkflowService): ServiceRegistration {
  return registration('crm.intake.v1.WorkflowService', WorkflowServiceService, {
    transitionRequest: async (req, ctx) => ({
      request: toProtoRequest(
        await workflow.transition(ctx, {
          id: req.id,
          expectedVersion: req.expectedVersion,
          to: known(stateName(req.to), req.to),
          reason: req.reason,
          trashReason: trashReasonName(req.trashReason),
          trashNote: req.trashNote,
          revisitAt: req.revisitAt,
          dealId: req.dealId,
          clientCardId: req.clientCardId,
          assigneeId: req.assigneeId,
        }),
      ),
    }),
    assignRequest: async (req, ctx) => ({
      request: toProtoRequest(await workflow.assign(ctx, { id: req.id, expectedVersion: req.expectedVersion, assigneeId: req.assigneeId, take: req.take })),
    }),
    markAnswered: async (req, ctx) => ({ request: toProtoRequest(await workflow.markAnswered(ctx, { id: req.id, expectedVersion: req.expectedVersion })) }),
    setCallOutcome: async (req, ctx) => {
      const r = await workflow.setCallOutcome(ctx, { requestId: req.requestId, missed: req.missed, recoveredAt: req.recoveredAt });
      return { request: toProtoRequest(r.request), changed: r.changed };
    },
    recordFirstResponse: async (req, ctx) => {
      const r = await workflow.recordFirstResponse(ctx, { requestId: req.requestId, at: req.at, userId: req.userId, via: req.via });
      return { request: toProtoRequest(r.request), recorded: r.recorded };
    },
    setAxes: async (req, ctx) => ({
      request: toProtoRequest(
        await workflow.setAxes(ctx, {
          id: req.id,
          expectedVersion: req.expectedVersion,
          meaning: known(meaningName(req.meaning), req.meaning),
          qualification: known(qualificationName(req.qualification), req.qualification),
          reason: req.reason,
        }),
      ),
    }),
    moveToDepartment: async (req, ctx) => ({
      request: toProtoRequest(await workflow.moveToDepartment(ctx, { id: req.id, expectedVersion: req.expectedVersion, departmentId: req.departmentId, reason: req.reason })),
    }),
    getRequestHistory: async (req, ctx) => ({ entries: await workflow.history(ctx, req.id) }),
    bulkAssign: async (req, ctx) => bulkOut(await workflow.bulkAssign(ctx, { ids: req.ids, assigneeId: req.assigneeId })),
    bulkTransition: async (req, ctx) =>
      bulkOut(
        await workflow.bulkTransition(ctx, {
          ids: req.ids,
          to: known(stateName(req.to), req.to),
          reason: req.reason,
          trashReason: trashReasonName(req.trashReason),
          trashNote: req.trashNote,
          revisitAt: req.revisitAt,
        }),
      ),
    countRequests: async (req, ctx) => {
      const filter = req.filter ? listInput(req.filter, ctx.callerId) : listInput({ states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '', contactId: '', departmentIds: [], assigneeIds: [], projectIds: [], meanings: [], qualifications: [], contactAxes: [], numberAxes: [], utmSource: '', order: '' }, ctx.callerId);
      const c = await workflow.count(ctx, filter);
      return { counts: c.counts.map((s) => ({ state: stateEnum(s.state), count: s.count })), total: c.total, slaBreachedOpen: c.slaBreachedOpen };
    },
    getMyWork: async (_req, ctx) => workflow.myWork(ctx),
    saveView: async (req, ctx) => ({ view: await workflow.saveView(ctx, { id: req.id, name: req.name, query: req.query }) }),
    listViews: async (_req, ctx) => ({ views: await workflow.listViews(ctx) }),
    deleteView: async (req, ctx) => {
      await workflow.deleteView(ctx, req.id);
      return {};
    },
  });
}
