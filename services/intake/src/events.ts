/** The events intake publishes (proto/topics/crm.intake.request.v1.yaml). */
export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const REQUEST_CREATED = 'crm.intake.request.created.v1';
export const REQUEST_COMMENTED = 'crm.intake.request.commented.v1';
/** The request's contact was set or changed after it arrived (cause `backfill`, `merge`, `merge_undone`). */
export const REQUEST_CONTACT_LINKED = 'crm.intake.request.contact_linked.v1';
/** Working the request (issue 8): the lifecycle, assignment and SLA events (proto/topics/crm.intake.request.v1.yaml). */
export const REQUEST_STATE_CHANGED = 'crm.intake.request.state_changed.v1';
export const REQUEST_ASSIGNED = 'crm.intake.request.assigned.v1';
export const REQUEST_SLA_BREACHED = 'crm.intake.request.sla_breached.v1';
export const REQUEST_AXIS_CHANGED = 'crm.intake.request.axis_changed.v1';
export const REQUEST_FIRST_RESPONSE = 'crm.intake.request.first_response.v1';

/** Follow-up tasks (proto/topics/crm.intake.task.v1.yaml), keyed by the task id. */
export const TASK_TOPIC = 'crm.intake.task.v1';
export const TASK_CREATED = 'crm.intake.task.created.v1';
export const TASK_UPDATED = 'crm.intake.task.updated.v1';
export const TASK_REMINDER = 'crm.intake.task.reminder.v1';
export const EVENT_SOURCE = 'crm/intake';

/** Consumed: contacts' merges and their undos move the requests' contact (proto/topics/crm.contacts.contact.v1.yaml). */
export const CONTACT_TOPIC = 'crm.contacts.contact.v1';
export const CONTACT_MERGED = 'crm.contacts.contact.merged.v1';
export const CONTACT_MERGE_UNDONE = 'crm.contacts.contact.merge_undone.v1';
/** A contact's name, company or points changed: verified points raise its requests' contact axis (workflow/contact-verified.ts). */
export const CONTACT_UPDATED = 'crm.contacts.contact.updated.v1';

export type ContactLinkCause = 'backfill' | 'merge' | 'merge_undone';

/** Consumed: the funnel's deal events; `request_linked` finishes a conversion or an attachment (proto/topics/crm.funnel.deal.v1.yaml). */
export const DEAL_TOPIC = 'crm.funnel.deal.v1';
export const DEAL_REQUEST_LINKED = 'crm.funnel.deal.request_linked.v1';
