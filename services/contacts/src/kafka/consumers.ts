import type { Logger } from '@crm/logger';
import type { ConsumerSpec } from '@crm/service';
import { cardEventsConsumer } from './crm.contacts.client_card.v1.consumer';
import { contactEventsConsumer } from './crm.contacts.contact.v1.consumer';
import { dealsConsumer } from './crm.funnel.deal.v1.consumer';
import { requestsConsumer } from './crm.intake.request.v1.consumer';
import { callsConsumer } from './crm.telephony.call.v1.consumer';

/**
 * Every consumer of contacts, one group per consumed topic: `contacts-requests` (crm.intake.request.v1),
 * `contacts-timeline` (crm.contacts.contact.v1), `contacts-timeline-cards` (crm.contacts.client_card.v1),
 * `contacts-deals` (crm.funnel.deal.v1), `contacts-calls` (crm.telephony.call.v1: calls on the timeline). The deployment's TOPIC_SUFFIX is appended to the group ids too
 * (empty in production), so test runs on their own topics never share a group.
 */
export function contactConsumers(env: { TOPIC_SUFFIX: string }, logger: Logger): ConsumerSpec[] {
  const groupSuffix = env.TOPIC_SUFFIX;
  return [requestsConsumer({ groupSuffix, logger }), contactEventsConsumer({ groupSuffix }), cardEventsConsumer({ groupSuffix }), dealsConsumer({ groupSuffix, logger }), callsConsumer({ groupSuffix })];
}
