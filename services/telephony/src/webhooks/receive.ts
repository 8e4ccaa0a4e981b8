import type { ReceiveRequest, ReceiveResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { TelephonyContext } from '../context';
import type { CallDecider } from '../decide/decide';
import { notYet } from '../not-yet';

/**
 * WebhookService.Receive: connection → adapter → verify/parse/answer → raw payload + events + processing
 * job in one transaction. Being written by the webhooks area.
 */
export class WebhookReceiver {
  constructor(
    private readonly ctx: TelephonyContext,
    private readonly decider: CallDecider,
  ) {}
  receive: (req: ReceiveRequest) => Promise<ReceiveResponse> = notYet('Receive');
}
