import { IntakeServiceService, type CreateRequestRequest } from '@crm/contracts/crm/intake/v1/intake';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { CreateRequestInput } from '../domain/create-request';
import { channelName, stateName, toProtoComment, toProtoRequest } from '../mappers';
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
    getRequest: async (req, ctx) => ({ request: toProtoRequest(await requests.get(ctx.tenantId, req.id)) }),
    listRequests: async (req, ctx) => {
      const page = await requests.list(ctx.tenantId, {
        states: req.states.map(stateName),
        channels: req.channels.map(channelName),
        createdFrom: req.createdFrom,
        createdTo: req.createdTo,
        query: req.query,
        pageSize: req.pageSize,
        cursor: req.cursor,
        contactId: req.contactId,
      });
      return { requests: page.requests.map(toProtoRequest), nextCursor: page.nextCursor };
    },
    addComment: async (req, ctx) => ({ comment: toProtoComment(await requests.addComment(ctx.tenantId, ctx.callerId, req.requestId, req.text)) }),
    listComments: async (req, ctx) => ({ comments: (await requests.listComments(ctx.tenantId, req.requestId)).map(toProtoComment) }),
  });
}
