/**
 * The funnel's deals → deal_links, card state and the timeline (consumer group `contacts-deals`).
 * - created → deal_links `open` and the card not_client → potential; won → `won` and the card → active
 *   (from not_client, potential or former); lost → `lost`; stage_changed → title/amount kept current;
 *   reopened → the link back to `open` (the card keeps its state: an active client stays active, and
 *   the client leaves the free base while the deal is open); updated → title/amount/currency follow.
 * - Out of order: an `open` event other than `reopened` never moves a won or lost deal back to open, and
 *   an older event never overwrites a newer one (the deal's updated_at decides); a card moves only when
 *   the link did.
 * - Each event but `updated` is a timeline entry (`deal_opened`, `deal_stage_changed`, `deal_won`,
 *   `deal_lost`, `deal_reopened`) on the deal's contacts (the first with the ce_id, more with
 *   `:contact:<id>`) and on the card (`:card`).
 */
import { DealCreated, DealLost, DealReopened, DealStageChanged, DealStatus, DealUpdated, DealWon, type DealSnapshot } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import type { EntityManager } from '@crm/db';
import { decodeData, type CloudEvent } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { ConsumerSpec } from '@crm/service';
import { eventTime, liveContactId, moveByEvent } from '../cards/card-store';
import { isUuidString } from '../cards/ids';
import { DEAL_CREATED, DEAL_LOST, DEAL_REOPENED, DEAL_STAGE_CHANGED, DEAL_TOPIC, DEAL_UPDATED, DEAL_WON } from '../events';
import { addTimelineEntry } from '../timeline.service';

export const DEALS_GROUP = 'contacts-deals';

type Status = 'open' | 'won' | 'lost';

function money(minor: number, currency: string): string {
  if (!currency) return '';
  return ` (${(minor / 100).toFixed(2)} ${currency})`;
}

function decode(event: CloudEvent): { deal?: DealSnapshot; status: Status; kind: string; extra: string } | null {
  switch (event.type) {
    case DEAL_CREATED:
      return { deal: decodeData(event, DealCreated).deal, status: 'open', kind: 'deal_opened', extra: '' };
    case DEAL_STAGE_CHANGED: {
      const e = decodeData(event, DealStageChanged);
      return { deal: e.deal, status: 'open', kind: 'deal_stage_changed', extra: e.deal?.stageName ? ` → ${e.deal.stageName}` : '' };
    }
    case DEAL_WON:
      return { deal: decodeData(event, DealWon).deal, status: 'won', kind: 'deal_won', extra: '' };
    case DEAL_LOST: {
      const e = decodeData(event, DealLost);
      return { deal: e.deal, status: 'lost', kind: 'deal_lost', extra: e.reason ? `: ${e.reason.slice(0, 200)}` : '' };
    }
    case DEAL_REOPENED:
      return { deal: decodeData(event, DealReopened).deal, status: 'open', kind: 'deal_reopened', extra: '' };
    case DEAL_UPDATED: {
      // Fields changed, not the stage: the link takes the snapshot as it is (its status included).
      const deal = decodeData(event, DealUpdated).deal;
      return { deal, status: statusOf(deal?.status), kind: '', extra: '' };
    }
    default:
      return null;
  }
}

function statusOf(s: DealStatus | undefined): Status {
  return s === DealStatus.DEAL_STATUS_WON ? 'won' : s === DealStatus.DEAL_STATUS_LOST ? 'lost' : 'open';
}

async function handle(event: CloudEvent, em: EntityManager, logger: Logger): Promise<void> {
  const decoded = decode(event);
  if (!decoded) return;
  const { deal, status, kind, extra } = decoded;
  if (!deal || !isUuidString(deal.id)) {
    logger.warn({ eventId: event.id, type: event.type }, 'deal event without a deal id; skipped');
    return;
  }
  if (deal.tenantId && deal.tenantId !== event.tenantId) return;
  const tenantId = event.tenantId;
  const dealId = deal.id.toLowerCase();

  let cardId: string | null = null;
  let cardContact: string | null = null;
  if (isUuidString(deal.clientCardId)) {
    const card = await em.execute<{ id: string; contact_id: string | null }[]>('SELECT id, contact_id FROM client_cards WHERE tenant_id = ? AND id = ?', [tenantId, deal.clientCardId.toLowerCase()]);
    cardId = card[0]?.id ?? null;
    cardContact = card[0]?.contact_id ?? null;
  }
  const contacts: string[] = [];
  for (const raw of [...(cardContact ? [cardContact] : []), ...deal.contactIds]) {
    if (!isUuidString(raw)) continue;
    const live = await liveContactId(em, tenantId, raw.toLowerCase());
    if (live && !contacts.includes(live)) contacts.push(live);
  }
  const updatedAt = eventTime(deal.updatedAt || deal.createdAt, event.time);
  const applied = await em.execute<{ deal_id: string }[]>(
    `INSERT INTO deal_links (deal_id, tenant_id, client_card_id, contact_ids, status, title, amount_minor, currency, updated_at)
     VALUES (?, ?, ?, ?::uuid[], ?, ?, ?, ?, ?)
     ON CONFLICT (deal_id) DO UPDATE SET
       client_card_id = COALESCE(EXCLUDED.client_card_id, deal_links.client_card_id),
       contact_ids = EXCLUDED.contact_ids, status = EXCLUDED.status, title = EXCLUDED.title,
       amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency, updated_at = EXCLUDED.updated_at
     WHERE deal_links.tenant_id = EXCLUDED.tenant_id
       AND EXCLUDED.updated_at >= deal_links.updated_at
       AND (?::boolean OR NOT (deal_links.status <> 'open' AND EXCLUDED.status = 'open'))
     RETURNING deal_id`,
    [dealId, tenantId, cardId, `{${contacts.join(',')}}`, status, deal.title || null, deal.amountMinor, deal.currency || null, updatedAt, event.type === DEAL_REOPENED],
  );
  if (applied.length && cardId) {
    if (status === 'open' && event.type === DEAL_CREATED) await moveByEvent(em, tenantId, cardId, 'lead', event.type, `deal ${dealId} opened`);
    if (status === 'won' && event.type === DEAL_WON) await moveByEvent(em, tenantId, cardId, 'won', event.type, `deal ${dealId} won`);
  }

  if (!kind) return;
  const summary = `${deal.title || 'deal'}${money(Number(deal.amountMinor), deal.currency)}${extra}`;
  const entry = { tenantId, occurredAt: updatedAt, kind, refType: 'deal', refId: dealId, summary, eventType: event.type };
  for (const [i, contactId] of contacts.entries()) {
    await addTimelineEntry(em, { ...entry, contactId, sourceEventId: i === 0 ? event.id : `${event.id}:contact:${contactId}` });
  }
  if (cardId) await addTimelineEntry(em, { ...entry, clientCardId: cardId, sourceEventId: `${event.id}:card` });
}

export function dealsConsumer(opts: { groupSuffix?: string; logger: Logger }): ConsumerSpec {
  return { groupId: `${DEALS_GROUP}${opts.groupSuffix ?? ''}`, topics: [DEAL_TOPIC], handler: (event, em) => handle(event, em, opts.logger) };
}
