/** What funnel publishes (proto/topics/crm.funnel.deal.v1.yaml): one topic, keyed by deal. */
export const EVENT_SOURCE = 'crm/funnel';
export const DEAL_TOPIC = 'crm.funnel.deal.v1';
export const DEAL_CREATED = 'crm.funnel.deal.created.v1';
export const DEAL_STAGE_CHANGED = 'crm.funnel.deal.stage_changed.v1';
export const DEAL_WON = 'crm.funnel.deal.won.v1';
export const DEAL_LOST = 'crm.funnel.deal.lost.v1';
export const DEAL_REOPENED = 'crm.funnel.deal.reopened.v1';
export const DEAL_UPDATED = 'crm.funnel.deal.updated.v1';
export const DEAL_REQUEST_LINKED = 'crm.funnel.deal.request_linked.v1';
