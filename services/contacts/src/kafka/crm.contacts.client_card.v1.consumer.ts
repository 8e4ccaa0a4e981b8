/**
 * contacts' own client card events → the timeline (consumer group `contacts-timeline-cards`): a
 * `changed` event of field `state` → `card_state_changed` on the card and on its contact (the card's
 * contact as it is now, so after a merge the survivor).
 */
import { ClientCardChanged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import type { EntityManager } from '@crm/db';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { ConsumerSpec } from '@crm/service';
import { eventTime } from '../cards/card-store';
import { isUuidString } from '../cards/ids';
import { CARD_CHANGED, CARD_TOPIC } from '../events';
import { addContactAndCardEntries } from '../timeline.service';

export const CARD_TIMELINE_GROUP = 'contacts-timeline-cards';

async function handle(event: CloudEvent, em: EntityManager): Promise<void> {
  if (event.type !== CARD_CHANGED) return;
  const { card, change } = decodeData(event, ClientCardChanged);
  if (!card || !change || change.field !== 'state' || !isUuidString(card.id)) return;
  const rows = await em.execute<{ contact_id: string | null }[]>('SELECT contact_id FROM client_cards WHERE tenant_id = ? AND id = ?', [event.tenantId, card.id]);
  if (!rows.length) return;
  const summary = `${change.fromValue} → ${change.toValue}${change.reason ? `: ${change.reason}` : ''}`;
  await addContactAndCardEntries(
    em,
    { tenantId: event.tenantId, occurredAt: eventTime(change.at, event.time), kind: 'card_state_changed', refType: 'client_card', refId: card.id, summary, eventType: event.type, sourceEventId: event.id },
    rows[0]!.contact_id,
    card.id,
  );
}

export function cardEventsConsumer(opts: { groupSuffix?: string } = {}): ConsumerSpec {
  return { groupId: `${CARD_TIMELINE_GROUP}${opts.groupSuffix ?? ''}`, topics: [CARD_TOPIC], handler: handle, types: [CARD_CHANGED] };
}
