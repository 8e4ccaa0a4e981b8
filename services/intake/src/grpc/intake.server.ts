import { IntakeServiceService, type CreateRequestRequest, type ListRequestsRequest } from '@crm/contracts/crm/intake/v1/intake';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { CreateRequestInput } from '../domain/create-request';
import type { ListRequestsInput } from '../domain/list-filter';
import { channelName, stateName, toProtoComment, toProtoRequest } from '../mappers';
import { contactAxisName, meaningName, numberAxisName, qualificationName } from '../workflow/names';
import { visibilityFor } from '../workflow/visibility';
import type { RequestsService } from '../requests.service';

/** Turns the proto message into the domain's input (enums to names, absent attribution to empty strings). */
function createInput(req: CreateRequestRequest): CreateRequestInput {
  const a = req.attribution;
  return {
    channel: channelName(req.channel),
    name: req.name,
    phone: req.phone,
    email: req.email,
    message: req.message,
    attribution: {
      utmSource: a?.utmSource ?? '',
      utmMedium: a?.utmMedium ?? '',
      utmCampaign: a?.utmCampaign ?? '',
      utmContent: a?.utmContent ?? '',
      utmTerm: a?.utmTerm ?? '',
      landingPage: a?.landingPage ?? '',
      referrer: a?.referrer ?? '',
    },
    idempotencyKey: req.idempotencyKey,
    publicFormId: req.publicFormId,
    defaultCountry: req.defaultCountry,
    extraFields: req.extraFields,
    extraFieldsTruncated: req.extraFieldsTruncated ?? false,
    projectId: req.projectId,
    dialedNumberKind: req.dialedNumberKind,
    missed: req.missed,
    decided: req.decided
      ? { version: req.decided.version, ruleId: req.decided.ruleId, departmentId: req.decided.departmentId, assigneeId: req.decided.assigneeId, assignedBy: req.decided.assignedBy }
      : undefined,
  };
}

/** The journal's filter from the proto message (enums to names; unknown values become '' and are refused). */
export function listInput(req: ListRequestsRequest, callerId: string): ListRequestsInput {
  return {
    states: req.states.map(stateName),
    channels: req.channels.map(channelName),
    createdFrom: req.createdFrom,
    createdTo: req.createdTo,
    query: req.query,
    pageSize: req.pageSize,
    cursor: req.cursor,
    contactId: req.contactId,
    departmentIds: req.departmentIds,
    assigneeIds: req.assigneeIds,
    projectIds: req.projectIds,
    meanings: req.meanings.map(meaningName),
    qualifications: req.qualifications.map(qualificationName),
    contactAxes: req.contactAxes.map(contactAxisName),
    numberAxes: req.numberAxes.map(numberAxisName),
    utmSource: req.utmSource,
    ...(req.slaBreached !== undefined ? { slaBreached: req.slaBreached } : {}),
    ...(req.missed !== undefined ? { missed: req.missed } : {}),
    order: req.order,
    callerId,
  };
}

/**
 * crm.intake.v1.IntakeService. Handlers only translate; the rules live in RequestsService and domain/.
 * Domain errors (ValidationError, NotFoundError, FAILED_PRECONDITION) become gRPC statuses in @crm/grpc.
 */
export function intakeService(requests: RequestsService): ServiceRegistration {
  return registration('crm.intake.v1.IntakeService', IntakeServiceService, {
    createRequest: async (req, ctx) => {
      const { request, replayed } = await requests.create(ctx.tenantId, createInput(req));
      return { request: toProtoRequest(request), replayed };
    },
    getRequest: async (req, ctx) => ({ request: toProtoRequest(await requests.get(ctx.tenantId, req.id, visibilityFor(ctx))) }),
    listRequests: async (req, ctx) => {
      const page = await requests.list(ctx.tenantId, listInput(req, ctx.callerId), visibilityFor(ctx));
      return { requests: page.requests.map(toProtoRequest), nextCursor: page.nextCursor };
    },
    addComment: async (req, ctx) => ({ comment: toProtoComment(await requests.addComment(ctx.tenantId, ctx.callerId, req.requestId, req.text, visibilityFor(ctx))) }),
    listComments: async (req, ctx) => ({ comments: (await requests.listComments(ctx.tenantId, req.requestId, visibilityFor(ctx))).map(toProtoComment) }),
  });
}
