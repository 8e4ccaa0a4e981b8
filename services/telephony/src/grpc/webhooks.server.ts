import { WebhookServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { CallDecider } from '../decide/decide';
import type { WebhookReceiver } from '../webhooks/receive';

export const WEBHOOK_SERVICE_NAME = 'crm.telephony.v1.WebhookService';

/** crm.telephony.v1.WebhookService (called with tenant `platform`: the connection says whose). */
export function webhooksServer(receiver: WebhookReceiver, decider: CallDecider): ServiceRegistration {
  return registration(WEBHOOK_SERVICE_NAME, WebhookServiceService, {
    receive: (req) => receiver.receive(req),
    decide: (req) => decider.decide(req),
  });
}
