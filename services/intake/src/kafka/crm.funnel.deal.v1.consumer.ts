/**
 * The conversion saga's second half (topic crm.funnel.deal.v1, an IdempotentConsumer: each event applies
 * once, in one transaction with its effects and the outbox rows they publish). The gateway converts a
 * request in two writes — funnel's CreateDeal (origin_request_id; one deal per request) and then intake's
 * TransitionRequest `converted`. Funnel writes `crm.funnel.deal.request_linked.v1` (kind `converted`, or
 * `attached` for LinkRequest) in the deal's transaction, so when the gateway dies between the two writes
 * (or intake was unreachable for the second) this consumer finishes the transition itself, actor
 * service/funnel, through WorkflowService.linkDeal (the same plan, history and events as a person's move):
 * - a request already `converted` / `attached` to that deal is left as it is (the gateway got there first);
 * - a request that cannot move there (trash, closed, deferred, converted to another deal, unknown in the
 *   tenant) is logged and left: retrying would never succeed, and the deal stays linked in funnel;
 * - an event without a valid request id, deal id or kind is the publisher's bug: it goes to the DLQ.
 * Other event types of the topic are not intake's business (the consumer does not even open a transaction).
 */
import { DealRequestLinked } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import { isUuid, type EntityManager } from '@crm/db';
import { DomainError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { ConsumerSpec } from '@crm/service';
import { DEAL_REQUEST_LINKED, DEAL_TOPIC } from '../events';
import type { WorkflowService } from '../workflow';

/** The consumer group (plus TOPIC_SUFFIX in tests, so runs do not share offsets). */
export const DEAL_EVENTS_GROUP = 'intake.funnel-deal';

/** Who the saga's transition is recorded as (history actor, events' actor). */
export const FUNNEL_CALLER = { callerId: 'funnel', callerKind: 'service' } as const;

export async function applyDealEvent(event: CloudEvent, em: EntityManager, workflow: WorkflowService, logger: Logger): Promise<void> {
  if (event.type !== DEAL_REQUEST_LINKED) return;
  const e = decodeData(event, DealRequestLinked);
  const dealId = e.deal?.id ?? '';
  if (!isUuid(e.requestId) || !isUuid(dealId)) throw new Error(`${event.type}: request_id and deal.id must be UUIDs`);
  if (e.kind !== 'converted' && e.kind !== 'attached') throw new Error(`${event.type}: kind must be converted or attached, not ${JSON.stringify(e.kind)}`);
  if (e.deal?.tenantId && e.deal.tenantId !== event.tenantId) throw new Error(`${event.type}: the deal's tenant is not the event's`);
  const ctx: TenantContext = { tenantId: event.tenantId, ...FUNNEL_CALLER };
  try {
    const { request, changed } = await workflow.linkDeal(ctx, { requestId: e.requestId, dealId, kind: e.kind }, em);
    logger.info({ requestId: request.id, dealId, kind: e.kind, changed }, changed ? 'request linked to its deal by the saga' : 'request already linked to its deal');
  } catch (err) {
    // A refusal is final (the request moved elsewhere meanwhile): log it and let the partition go on.
    if (!(err instanceof DomainError) || err.code === 'UNAVAILABLE' || err.code === 'INTERNAL') throw err;
    logger.warn({ err, requestId: e.requestId, dealId, kind: e.kind, tenantId: event.tenantId }, 'the deal was linked to a request that cannot follow it; left as it is');
  }
}

export function dealEventsConsumer(topicSuffix: string, workflow: WorkflowService, logger: Logger): ConsumerSpec {
  return { groupId: `${DEAL_EVENTS_GROUP}${topicSuffix}`, topics: [DEAL_TOPIC], handler: (event, em) => applyDealEvent(event, em, workflow, logger), types: [DEAL_REQUEST_LINKED] };
}
