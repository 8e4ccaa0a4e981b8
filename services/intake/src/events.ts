/** The events intake publishes (proto/topics/crm.intake.request.v1.yaml). */
export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const REQUEST_CREATED = 'crm.intake.request.created.v1';
export const REQUEST_COMMENTED = 'crm.intake.request.commented.v1';
export const EVENT_SOURCE = 'crm/intake';
