/**
 * intake follows contacts' merges (topic crm.contacts.contact.v1, an IdempotentConsumer: each event
 * applies once, in one transaction with its effects and the outbox rows they publish):
 * - `merged`: the event's request_ids move from the loser to the survivor;
 * - `merge_undone`: they move back from the survivor to the loser.
 * Only requests still linked to the contact they move from are touched, so a replay, an undo that
 * arrives for requests re-linked since, or ids of another tenant change nothing. Each moved request
 * gets a `crm.intake.request.contact_linked.v1` (cause `merge` / `merge_undone`).
 * - `updated`: the contact's verified points raise its `unverified` requests' contact axis to
 *   `verified` (workflow/contact-verified.ts).
 * Other event types of the topic are not intake's business and are skipped.
 */
import { ContactMergeUndone, ContactMerged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { isUuid, type EntityManager } from '@crm/db';
import { decodeData, type CloudEvent, type EventHandler } from '@crm/kafka';
import type { ConsumerSpec } from '@crm/service';
import { relinkRequests } from '../contact-links';
import { CONTACT_MERGE_UNDONE, CONTACT_MERGED, CONTACT_TOPIC, CONTACT_UPDATED } from '../events';
import { applyContactUpdated } from '../workflow/contact-verified';

/** The consumer group (plus TOPIC_SUFFIX in tests, so runs do not share offsets). */
export const CONTACT_EVENTS_GROUP = 'intake.contacts-contact';

function ids(what: string, survivorId: string | undefined, loserId: string | undefined): { survivorId: string; loserId: string } {
  // A malformed event is the publisher's bug: failing it sends it to the DLQ with this message.
  if (!survivorId || !loserId || !isUuid(survivorId) || !isUuid(loserId)) throw new Error(`${what}: merge.survivor_id and merge.loser_id must be UUIDs`);
  return { survivorId, loserId };
}

export async function applyContactEvent(event: CloudEvent, em: EntityManager): Promise<void> {
  if (event.type === CONTACT_MERGED) {
    const e = decodeData(event, ContactMerged);
    const { survivorId, loserId } = ids(event.type, e.merge?.survivorId, e.merge?.loserId);
    await relinkRequests(em, event.tenantId, e.requestIds, loserId, survivorId, 'merge');
  } else if (event.type === CONTACT_MERGE_UNDONE) {
    const e = decodeData(event, ContactMergeUndone);
    const { survivorId, loserId } = ids(event.type, e.merge?.survivorId, e.merge?.loserId);
    await relinkRequests(em, event.tenantId, e.requestIds, survivorId, loserId, 'merge_undone');
  } else if (event.type === CONTACT_UPDATED) {
    await applyContactUpdated(event, em);
  }
}

export function contactEventsConsumer(topicSuffix: string): ConsumerSpec {
  const handler: EventHandler = applyContactEvent;
  return { groupId: `${CONTACT_EVENTS_GROUP}${topicSuffix}`, topics: [CONTACT_TOPIC], handler, types: [CONTACT_MERGED, CONTACT_MERGE_UNDONE, CONTACT_UPDATED] };
}
