/**
 * Changing a request's contact after it arrived (the backfill, contacts' merges and undos): the row and
 * its `crm.intake.request.contact_linked.v1` event in one transaction.
 */
import { RequestContactLinked } from '@crm/contracts/crm/intake/events/v1/request_events';
import { isUuid, type EntityManager } from '@crm/db';
import { enqueueEvent } from '@crm/kafka';
import { EVENT_SOURCE, REQUEST_CONTACT_LINKED, REQUEST_TOPIC, type ContactLinkCause } from './events';

export function enqueueContactLinked(em: EntityManager, tenantId: string, requestId: string, previousContactId: string | null, contactId: string, cause: ContactLinkCause): void {
  enqueueEvent(em, {
    topic: REQUEST_TOPIC,
    type: REQUEST_CONTACT_LINKED,
    codec: RequestContactLinked,
    payload: { requestId, previousContactId: previousContactId ?? '', contactId, cause },
    subject: requestId,
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
  const moved = await em.execute<{ id: string }[]>(
    'UPDATE requests SET contact_id = ?::uuid WHERE tenant_id = ? AND contact_id = ?::uuid AND id = ANY(?::uuid[]) RETURNING id',
    [to, tenantId, from, uuidArray(ids)],
  );
  for (const { id } of moved) enqueueContactLinked(em, tenantId, id, from, to, cause);
  return moved.map((r) => r.id);
}
