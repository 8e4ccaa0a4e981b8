/**
 * contacts' own contact events → the timeline (consumer group `contacts-timeline`):
 * `created` → `contact_created` on the contact; `merged` / `merge_undone` → `contact_merged` /
 * `contact_merge_undone` on the survivor. MergeService moves the existing entries itself; this only adds
 * the entry that records the merge.
 */
import { ContactCreated, ContactMerged, ContactMergeUndone } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import type { EntityManager } from '@crm/db';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { ConsumerSpec } from '@crm/service';
import { eventTime } from '../cards/card-store';
import { isUuidString } from '../cards/ids';
import { CONTACT_CREATED, CONTACT_MERGE_UNDONE, CONTACT_MERGED, CONTACT_TOPIC } from '../events';
import { addTimelineEntry } from '../timeline.service';

export const TIMELINE_GROUP = 'contacts-timeline';

async function exists(em: EntityManager, tenantId: string, contactId: string): Promise<boolean> {
  return (await em.execute('SELECT 1 FROM contacts WHERE tenant_id = ? AND id = ?', [tenantId, contactId])).length > 0;
}

const PROVENANCE: Record<number, string> = { 1: 'from a request', 2: 'by an import', 3: 'by hand', 4: 'from a call', 5: 'from a conversation' };

async function handle(event: CloudEvent, em: EntityManager): Promise<void> {
  const tenantId = event.tenantId;
  if (event.type === CONTACT_CREATED) {
    const contact = decodeData(event, ContactCreated).contact;
    if (!contact || !isUuidString(contact.id) || !(await exists(em, tenantId, contact.id))) return;
    const how = PROVENANCE[contact.provenance?.kind ?? 0];
    await addTimelineEntry(em, {
      tenantId,
      contactId: contact.id,
      occurredAt: eventTime(contact.createdAt, event.time),
      kind: 'contact_created',
      refType: 'contact',
      refId: contact.id,
      summary: ['contact created', how].filter(Boolean).join(' '),
      eventType: event.type,
      sourceEventId: event.id,
    });
    return;
  }
  if (event.type === CONTACT_MERGED || event.type === CONTACT_MERGE_UNDONE) {
    const undone = event.type === CONTACT_MERGE_UNDONE;
    const merge = (undone ? decodeData(event, ContactMergeUndone) : decodeData(event, ContactMerged)).merge;
    if (!merge || !isUuidString(merge.survivorId) || !(await exists(em, tenantId, merge.survivorId))) return;
    await addTimelineEntry(em, {
      tenantId,
      contactId: merge.survivorId,
      occurredAt: eventTime(undone ? merge.undoneAt : merge.createdAt, event.time),
      kind: undone ? 'contact_merge_undone' : 'contact_merged',
      refType: 'merge',
      refId: merge.id,
      summary: undone ? `merge with contact ${merge.loserId} undone` : `contact ${merge.loserId} merged into this one`,
      eventType: event.type,
      sourceEventId: event.id,
    });
  }
}

export function contactEventsConsumer(opts: { groupSuffix?: string } = {}): ConsumerSpec {
  return { groupId: `${TIMELINE_GROUP}${opts.groupSuffix ?? ''}`, topics: [CONTACT_TOPIC], handler: handle, types: [CONTACT_CREATED, CONTACT_MERGED, CONTACT_MERGE_UNDONE] };
}
