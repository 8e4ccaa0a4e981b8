/** What telephony publishes (proto/topics/crm.telephony.call.v1.yaml) and consumes (crm.telephony.webhook.v1). */
export const EVENT_SOURCE = 'crm/telephony';
export const CALL_TOPIC = 'crm.telephony.call.v1';
export const CALL_RINGING = 'crm.telephony.call.ringing.v1';
export const CALL_ANSWERED = 'crm.telephony.call.answered.v1';
export const CALL_TRANSFERRED = 'crm.telephony.call.transferred.v1';
export const CALL_ENDED = 'crm.telephony.call.ended.v1';
export const CALL_MISSED = 'crm.telephony.call.missed.v1';
export const CALL_RECOVERED = 'crm.telephony.call.recovered.v1';
export const CALL_RECORDING_READY = 'crm.telephony.call.recording_ready.v1';
/** The gateway's fallback when telephony could not take a webhook (see webhooks/). */
export const WEBHOOK_TOPIC = 'crm.telephony.webhook.v1';
export const WEBHOOK_RECEIVED = 'crm.telephony.webhook.received.v1';
