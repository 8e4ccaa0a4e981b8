/**
 * telephony's calls → the timeline (consumer group `contacts-calls`). A call that ended is one entry on
 * the caller's contact (the contact as it is now, so after a merge the survivor) and on its client card:
 * `call_answered` (answered, with the talk time) or `call_missed` (nobody answered); a missed call later
 * called back adds `call_recovered`. Ringing, answered, transferred and recording events add nothing (the
 * ended call says it all). Idempotent: the entry's source is the event's id (`:card` for the card's).
 * A call without a contact (unknown caller, not yet matched) is skipped.
 */
import { CallEnded, CallMissed, CallRecovered } from '@crm/contracts/crm/telephony/events/v1/call_events';
import { CallDirection, type Call } from '@crm/contracts/crm/telephony/v1/telephony';
import type { EntityManager } from '@crm/db';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { ConsumerSpec } from '@crm/service';
import { eventTime, liveContactId } from '../cards/card-store';
import { isUuidString } from '../cards/ids';
import { addContactAndCardEntries } from '../timeline.service';

export const CALLS_GROUP = 'contacts-calls';
export const CALL_TOPIC = 'crm.telephony.call.v1';
export const CALL_ENDED = 'crm.telephony.call.ended.v1';
export const CALL_MISSED = 'crm.telephony.call.missed.v1';
export const CALL_RECOVERED = 'crm.telephony.call.recovered.v1';

/** `m:ss` of a talk time. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function who(c: Call): string {
  return c.direction === CallDirection.CALL_DIRECTION_OUTBOUND ? `→ ${c.callee}` : `← ${c.caller}`;
}

function entryOf(event: CloudEvent): { call: Call; kind: string; summary: string; at: string } | null {
  switch (event.type) {
    case CALL_ENDED: {
      const call = decodeData(event, CallEnded).call;
      // An unanswered inbound call is told by its `missed` event; an unanswered outbound one is a call too.
      if (!call || (call.missed && call.direction !== CallDirection.CALL_DIRECTION_OUTBOUND)) return null;
      const answered = !!call.answeredAt;
      const kind = answered ? 'call_answered' : 'call_unanswered';
      const summary = answered ? `${who(call)}, ${clock(call.talkSeconds)}` : `${who(call)}${call.disposition ? `, ${call.disposition}` : ''}`;
      return { call, kind, summary, at: call.endedAt || call.startedAt };
    }
    case CALL_MISSED: {
      const call = decodeData(event, CallMissed).call;
      return call ? { call, kind: 'call_missed', summary: who(call), at: call.endedAt || call.startedAt } : null;
    }
    case CALL_RECOVERED: {
      const e = decodeData(event, CallRecovered);
      const call = e.call;
      return call ? { call, kind: 'call_recovered', summary: `${who(call)}, ${clock(e.callbackSeconds)}`, at: call.recoveredAt } : null;
    }
    default:
      return null;
  }
}

async function handle(event: CloudEvent, em: EntityManager): Promise<void> {
  const e = entryOf(event);
  if (!e || !isUuidString(e.call.contactId) || !isUuidString(e.call.id)) return;
  if (e.call.tenantId && e.call.tenantId !== event.tenantId) return;
  const tenantId = event.tenantId;
  const contactId = await liveContactId(em, tenantId, e.call.contactId.toLowerCase());
  if (!contactId) return;
  const cards = await em.execute<{ id: string }[]>('SELECT id FROM client_cards WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at LIMIT 1', [tenantId, contactId]);
  await addContactAndCardEntries(
    em,
    { tenantId, occurredAt: eventTime(e.at, event.time), kind: e.kind, refType: 'call', refId: e.call.id.toLowerCase(), summary: e.summary, eventType: event.type, sourceEventId: event.id },
    contactId,
    cards[0]?.id ?? null,
  );
}

export function callsConsumer(opts: { groupSuffix?: string } = {}): ConsumerSpec {
  return { groupId: `${CALLS_GROUP}${opts.groupSuffix ?? ''}`, topics: [CALL_TOPIC], handler: handle, types: [CALL_ENDED, CALL_MISSED, CALL_RECOVERED] };
}
