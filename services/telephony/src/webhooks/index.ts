import { WebhookReceived } from '@crm/contracts/crm/telephony/events/v1/webhook_events';
import { decodeData } from '@crm/kafka';
import type { Built } from '@crm/service';
import type { TelephonyContext } from '../context';
import { WEBHOOK_RECEIVED, WEBHOOK_TOPIC } from '../events';
import { configureProviderClient } from '../http/provider-client';
import type { WebhookReceiver } from './receive';

/** The consumer group of the gateway's fallback topic. */
export const WEBHOOK_CONSUMER_GROUP = 'telephony-webhooks';

/**
 * The webhooks area: the provider HTTP client's settings from the env, and the consumer of the gateway's
 * fallback topic (crm.telephony.webhook.v1) — each message is a provider's request the gateway answered
 * 200 while telephony could not take it; it goes through WebhookReceiver.receive exactly like a live one
 * (verified against its `received_at`, stored once per delivery) inside the consumer's transaction, so
 * the message's processed_events row and the stored delivery commit together. A refusal (a wrong
 * signature…) is logged and counted by the receiver and the message is done; a database failure is
 * retried by the consumer.
 */
export function webhooksParts(ctx: TelephonyContext, receiver: WebhookReceiver): Partial<Built> {
  configureProviderClient({
    timeoutMs: ctx.env.TELEPHONY_PROVIDER_TIMEOUT_MS,
    retries: ctx.env.TELEPHONY_PROVIDER_RETRIES,
    allowPrivate: ctx.env.TELEPHONY_ALLOW_PRIVATE_PROVIDER_URLS || process.env.NODE_ENV === 'test',
  });
  return {
    consumers: [
      {
        groupId: WEBHOOK_CONSUMER_GROUP,
        topics: [WEBHOOK_TOPIC],
        types: [WEBHOOK_RECEIVED],
        handler: async (event, em) => {
          const { request } = decodeData(event, WebhookReceived);
          if (!request) {
            ctx.logger.warn({ eventId: event.id }, 'webhook fallback message without a request; skipped');
            return;
          }
          const res = await receiver.receive(request, em);
          ctx.logger.info({ connectionId: request.connectionId, outcome: res.outcome, receivedAt: request.receivedAt }, 'webhook from the fallback topic');
        },
      },
    ],
  };
}
