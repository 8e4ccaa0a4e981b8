/**
 * Changing a request's contact after it arrived (the backfill, contacts' merges and undos): the row and
 * its `crm.intake.request.contact_linked.v1` event in one transaction.
 */
import { RequestContactLinked } from '@crm/contracts/crm/intake/events/v1/request_events';
import { isUuid, type EntityManager } from '@crm/db';
import { enqueueEvent } from '@crm/kafka';
import { channelToProto } from './mappers';
import { EVENT_SOURCE, REQUEST_CONTACT_LINKED, REQUEST_TOPIC, type ContactLinkCause } from './events';

/** The request as the event describes it: its id, channel and message. */
export interface LinkedRequest {
  id: string;
  channel: string;
  message: string | null;
}

export function enqueueContactLinked(em: EntityManager, tenantId: string, request: LinkedRequest, previousContactId: string | null, contactId: string, cause: ContactLinkCause): void {
  enqueueEvent(em, {
    topic: REQUEST_TOPIC,
    type: REQUEST_CONTACT_LINKED,
    codec: RequestContactLinked,
    payload: { requestId: request.id, previousContactId: previousContactId ?? '', contactId, cause, channel: channelToProto(request.channel), message: request.message ?? '' },
    subject: request.id,
    tenantId,
    source: EVENT_SOURCE,
  });
}

/** A PostgreSQL uuid[] literal (knex would expand a JS array into a list); only valid UUIDs are passed. */
export function uuidArray(ids: string[]): string {
  return `{${ids.filter(isUuid).join(',')}}`;
}

/**
 * Moves the given requests of a tenant from one contact to another, only those still linked to `from`
 * (a request re-linked since, or never linked to it, is left alone), and publishes one contact_linked
 * event per moved request. Returns the moved ids.
 */
export async function relinkRequests(em: EntityManager, tenantId: string, requestIds: string[], from: string, to: string, cause: ContactLinkCause): Promise<string[]> {
  const ids = requestIds.filter(isUuid);
  if (!ids.length) return [];
  const moved = await em.execute<LinkedRequest[]>(
    'UPDATE requests SET contact_id = ?::uuid WHERE tenant_id = ? AND contact_id = ?::uuid AND id = ANY(?::uuid[]) RETURNING id, channel, message',
    [to, tenantId, from, uuidArray(ids)],
  );
  for (const request of moved) enqueueContactLinked(em, tenantId, request, from, to, cause);
  return moved.map((r) => r.id);
}
