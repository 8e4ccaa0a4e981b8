/** The events intake publishes (proto/topics/crm.intake.request.v1.yaml). */
export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const REQUEST_CREATED = 'crm.intake.request.created.v1';
export const REQUEST_COMMENTED = 'crm.intake.request.commented.v1';
/** The request's contact was set or changed after it arrived (cause `backfill`, `merge`, `merge_undone`). */
export const REQUEST_CONTACT_LINKED = 'crm.intake.request.contact_linked.v1';
export const EVENT_SOURCE = 'crm/intake';

/** Consumed: contacts' merges and their undos move the requests' contact (proto/topics/crm.contacts.contact.v1.yaml). */
export const CONTACT_TOPIC = 'crm.contacts.contact.v1';
export const CONTACT_MERGED = 'crm.contacts.contact.merged.v1';
export const CONTACT_MERGE_UNDONE = 'crm.contacts.contact.merge_undone.v1';

export type ContactLinkCause = 'backfill' | 'merge' | 'merge_undone';
