/**
 * intake's requests → request_links, the timeline and card state (consumer group `contacts-requests`).
 * - created with a contact: a request_links row for the live contact (the merged_into chain followed), a
 *   `request_created` entry on the contact and on its personal card (summary: channel and the first 200
 *   characters of the message); a request qualified as a lead moves the card not_client → potential.
 * - commented: a `request_commented` entry on the request's contact (and card), when the request is linked.
 * - contact_linked (the backfill, a merge or its undo): the link points at the new contact; the
 *   `request_created` entry (channel and message, which the event carries) is added when that contact
 *   has none for the request.
 * Each effect runs in the IdempotentConsumer's transaction with the event's processed_events row.
 */
import { RequestCommented, RequestContactLinked, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, QualificationAxis } from '@crm/contracts/crm/intake/v1/request';
import type { EntityManager } from '@crm/db';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { ConsumerSpec } from '@crm/service';
import { eventTime, liveContactId, moveByEvent, personalCardId, uuidv7Time } from '../cards/card-store';
import { isUuidString } from '../cards/ids';
import { REQUEST_COMMENTED, REQUEST_CONTACT_LINKED, REQUEST_CREATED, REQUEST_TOPIC } from '../events';
import { addContactAndCardEntries } from '../timeline.service';

export const REQUESTS_GROUP = 'contacts-requests';

const CHANNELS: Partial<Record<Channel, string>> = {
  [Channel.CHANNEL_PHONE]: 'phone',
  [Channel.CHANNEL_CHAT]: 'chat',
  [Channel.CHANNEL_EMAIL]: 'email',
  [Channel.CHANNEL_SIGNUP]: 'signup',
  [Channel.CHANNEL_WEB_FORM]: 'web_form',
};
const QUALIFICATIONS: Partial<Record<QualificationAxis, string>> = {
  [QualificationAxis.QUALIFICATION_AXIS_PENDING]: 'pending',
  [QualificationAxis.QUALIFICATION_AXIS_LEAD]: 'lead',
  [QualificationAxis.QUALIFICATION_AXIS_NOT_LEAD]: 'not_lead',
};

export const requestSummary = (channel: string | null, message: string): string => {
  const text = message.replace(/\s+/g, ' ').trim().slice(0, 200);
  return [channel ?? 'request', text].filter(Boolean).join(': ');
};

async function onCreated(event: CloudEvent, em: EntityManager, logger: Logger): Promise<void> {
  const request = decodeData(event, RequestCreated).request;
  if (!request || !isUuidString(request.id) || !isUuidString(request.contactId)) return; // no contact (yet): contact_linked brings it
  if (request.tenantId && request.tenantId !== event.tenantId) return;
  const tenantId = event.tenantId;
  const contactId = await liveContactId(em, tenantId, request.contactId.toLowerCase());
  if (!contactId) {
    logger.warn({ requestId: request.id, contactId: request.contactId, tenantId }, 'request names a contact this tenant does not have; not linked');
    return;
  }
  const channel = CHANNELS[request.axes?.channel ?? Channel.CHANNEL_UNSPECIFIED] ?? null;
  const qualification = QUALIFICATIONS[request.axes?.qualification ?? QualificationAxis.QUALIFICATION_AXIS_UNSPECIFIED] ?? null;
  const createdAt = eventTime(request.createdAt, event.time);
  await em.execute(
    `INSERT INTO request_links (request_id, tenant_id, contact_id, channel, qualification, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (request_id) DO UPDATE SET channel = EXCLUDED.channel, qualification = EXCLUDED.qualification, created_at = EXCLUDED.created_at
      WHERE request_links.tenant_id = EXCLUDED.tenant_id`,
    [request.id.toLowerCase(), tenantId, contactId, channel, qualification, createdAt],
  );
  const cardId = await personalCardId(em, tenantId, contactId);
  await addContactAndCardEntries(
    em,
    { tenantId, occurredAt: createdAt, kind: 'request_created', refType: 'request', refId: request.id.toLowerCase(), summary: requestSummary(channel, request.message), eventType: event.type, sourceEventId: event.id },
    contactId,
    cardId,
  );
  if (qualification === 'lead' && cardId) await moveByEvent(em, tenantId, cardId, 'lead', event.type, `request ${request.id} qualified as a lead`);
}

async function onCommented(event: CloudEvent, em: EntityManager): Promise<void> {
  const comment = decodeData(event, RequestCommented).comment;
  if (!comment || !isUuidString(comment.requestId)) return;
  const tenantId = event.tenantId;
  const requestId = comment.requestId.toLowerCase();
  const link = await em.execute<{ contact_id: string }[]>('SELECT contact_id FROM request_links WHERE tenant_id = ? AND request_id = ?', [tenantId, requestId]);
  if (!link.length) return; // a request without a contact: nothing to put it on
  const contactId = await liveContactId(em, tenantId, link[0]!.contact_id);
  if (!contactId) return;
  await addContactAndCardEntries(
    em,
    {
      tenantId,
      occurredAt: eventTime(comment.createdAt, event.time),
      kind: 'request_commented',
      refType: 'request',
      refId: requestId,
      summary: comment.text.replace(/\s+/g, ' ').trim().slice(0, 200),
      eventType: event.type,
      sourceEventId: event.id,
    },
    contactId,
    await personalCardId(em, tenantId, contactId),
  );
}

async function onContactLinked(event: CloudEvent, em: EntityManager, logger: Logger): Promise<void> {
  const linked = decodeData(event, RequestContactLinked);
  if (!isUuidString(linked.requestId) || !isUuidString(linked.contactId)) return;
  const tenantId = event.tenantId;
  const requestId = linked.requestId.toLowerCase();
  const contactId = await liveContactId(em, tenantId, linked.contactId.toLowerCase());
  if (!contactId) {
    logger.warn({ requestId, contactId: linked.contactId, tenantId }, 'contact_linked names a contact this tenant does not have; not linked');
    return;
  }
  // A request id is a UUIDv7: its first 48 bits are when intake made it.
  const createdAt = uuidv7Time(requestId) ?? eventTime(undefined, event.time);
  const rows = await em.execute<{ channel: string | null; created_at: Date }[]>(
    `INSERT INTO request_links (request_id, tenant_id, contact_id, channel, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (request_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, channel = COALESCE(request_links.channel, EXCLUDED.channel)
      WHERE request_links.tenant_id = EXCLUDED.tenant_id
     RETURNING channel, created_at`,
    [requestId, tenantId, contactId, CHANNELS[linked.channel] ?? null, createdAt],
  );
  if (!rows.length) return; // the id belongs to another tenant's request
  const has = await em.execute<{ id: string }[]>(
    `SELECT id FROM timeline_entries WHERE tenant_id = ? AND contact_id = ? AND kind = 'request_created' AND ref_id = ? LIMIT 1`,
    [tenantId, contactId, requestId],
  );
  if (has.length) return;
  await addContactAndCardEntries(
    em,
    {
      tenantId,
      occurredAt: new Date(rows[0]!.created_at),
      kind: 'request_created',
      refType: 'request',
      refId: requestId,
      summary: requestSummary(rows[0]!.channel ?? CHANNELS[linked.channel] ?? null, linked.message),
      eventType: event.type,
      sourceEventId: event.id,
    },
    contactId,
    await personalCardId(em, tenantId, contactId),
  );
}

export function requestsConsumer(opts: { groupSuffix?: string; logger: Logger }): ConsumerSpec {
  return {
    groupId: `${REQUESTS_GROUP}${opts.groupSuffix ?? ''}`,
    topics: [REQUEST_TOPIC],
    handler: async (event, em) => {
      if (event.type === REQUEST_CREATED) await onCreated(event, em, opts.logger);
      else if (event.type === REQUEST_COMMENTED) await onCommented(event, em);
      else if (event.type === REQUEST_CONTACT_LINKED) await onContactLinked(event, em, opts.logger);
    },
  };
}
