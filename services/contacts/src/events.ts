/** What contacts publishes (proto/topics/crm.contacts.*.v1.yaml) and consumes: one topic per aggregate. */
export const EVENT_SOURCE = 'crm/contacts';

export const CONTACT_TOPIC = 'crm.contacts.contact.v1';
export const CONTACT_CREATED = 'crm.contacts.contact.created.v1';
export const CONTACT_UPDATED = 'crm.contacts.contact.updated.v1';
export const CONTACT_MERGED = 'crm.contacts.contact.merged.v1';
export const CONTACT_MERGE_UNDONE = 'crm.contacts.contact.merge_undone.v1';

export const CARD_TOPIC = 'crm.contacts.client_card.v1';
export const CARD_CREATED = 'crm.contacts.client_card.created.v1';
export const CARD_CHANGED = 'crm.contacts.client_card.changed.v1';

export const COMPANY_TOPIC = 'crm.contacts.company.v1';
export const COMPANY_CREATED = 'crm.contacts.company.created.v1';
export const COMPANY_UPDATED = 'crm.contacts.company.updated.v1';

/** Consumed: intake's requests (request links, the timeline, card state) and the funnel's deals. */
export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const DEAL_TOPIC = 'crm.funnel.deal.v1';

/** The consumed event types (H2: src/kafka/*.consumer.ts). */
export const REQUEST_CREATED = 'crm.intake.request.created.v1';
export const REQUEST_COMMENTED = 'crm.intake.request.commented.v1';
export const REQUEST_CONTACT_LINKED = 'crm.intake.request.contact_linked.v1';
export const DEAL_CREATED = 'crm.funnel.deal.created.v1';
export const DEAL_STAGE_CHANGED = 'crm.funnel.deal.stage_changed.v1';
export const DEAL_WON = 'crm.funnel.deal.won.v1';
export const DEAL_LOST = 'crm.funnel.deal.lost.v1';
/** A won or lost deal reopened (its link back to open); a deal's title or amount changed (the link follows). */
export const DEAL_REOPENED = 'crm.funnel.deal.reopened.v1';
export const DEAL_UPDATED = 'crm.funnel.deal.updated.v1';
