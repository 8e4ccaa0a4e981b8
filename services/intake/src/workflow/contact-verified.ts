/**
 * The contact axis follows contacts' data: when contacts publishes a contact whose phone or e-mail is
 * verified (`crm.contacts.contact.updated.v1`, e.g. change `point_verification`), intake's requests of
 * that contact still `unverified` that came with that very point become `verified` — with a history row
 * (actor system/contacts) and a RequestAxisChanged, in the consumer's transaction. Only `unverified`
 * rows change, so a replayed event changes nothing.
 */
import { ContactUpdated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { PointType, Verification } from '@crm/contracts/crm/contacts/v1/contacts';
import { RequestAxisChanged } from '@crm/contracts/crm/intake/events/v1/request_events';
import { isUuid, type EntityManager } from '@crm/db';
import { decodeData, enqueueEvent, type CloudEvent } from '@crm/kafka';
import { RequestSchema } from '../db/entities/request.entity';
import { EVENT_SOURCE, REQUEST_AXIS_CHANGED, REQUEST_TOPIC } from '../events';
import { toProtoRequest } from '../mappers';
import { writeHistory, type Actor } from './history';

export const CONTACTS_ACTOR: Actor = { kind: 'system', id: 'contacts' };

/** Raises the contact axis of the contact's requests that came with one of these verified points; the number changed. */
export async function raiseContactVerified(em: EntityManager, tenantId: string, contactId: string, points: { phone: string[]; email: string[] }): Promise<number> {
  if (!isUuid(contactId) || (!points.phone.length && !points.email.length)) return 0;
  const any: string[] = [];
  const params: unknown[] = [tenantId, contactId];
  if (points.phone.length) {
    any.push(`phone IN (${points.phone.map(() => '?').join(', ')})`);
    params.push(...points.phone);
  }
  if (points.email.length) {
    any.push(`email IN (${points.email.map(() => '?').join(', ')})`);
    params.push(...points.email);
  }
  const rows = await em.execute<Record<string, unknown>[]>(
    `UPDATE requests SET contact_axis = 'verified', version = version + 1
     WHERE tenant_id = ? AND contact_id = ?::uuid AND contact_axis = 'unverified' AND (${any.join(' OR ')}) RETURNING *`,
    params,
  );
  const at = new Date();
  const mapper = em.fork({ clear: true });
  for (const r of rows) {
    const after = { ...mapper.map(RequestSchema, r) };
    await writeHistory(em, tenantId, after.id, CONTACTS_ACTOR, at, [{ field: 'contact', from: 'unverified', to: 'verified' }]);
    enqueueEvent(em, {
      topic: REQUEST_TOPIC,
      type: REQUEST_AXIS_CHANGED,
      codec: RequestAxisChanged,
      payload: { request: toProtoRequest(after), axis: 'contact', from: 'unverified', to: 'verified', actor: CONTACTS_ACTOR, at: at.toISOString() },
      subject: after.id,
      tenantId,
      source: EVENT_SOURCE,
    });
  }
  return rows.length;
}

/** A `crm.contacts.contact.updated.v1`: the contact's verified phones and e-mails raise its requests' axis. */
export async function applyContactUpdated(event: CloudEvent, em: EntityManager): Promise<void> {
  const e = decodeData(event, ContactUpdated);
  const c = e.contact;
  if (!c) return;
  const verified = c.points.filter((p) => p.verification === Verification.VERIFICATION_VERIFIED);
  await raiseContactVerified(em, event.tenantId, c.id, {
    phone: verified.filter((p) => p.type === PointType.POINT_TYPE_PHONE).map((p) => p.value),
    email: verified.filter((p) => p.type === PointType.POINT_TYPE_EMAIL).map((p) => p.value),
  });
}
