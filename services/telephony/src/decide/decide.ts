import type { DecideRequest, DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { TelephonyContext } from '../context';
import { notYet } from '../not-yet';

/**
 * "Whom do I connect this caller to" (WebhookService.Decide, and the adapters that answer routing
 * synchronously). Being written by the decision area.
 */
export class CallDecider {
  constructor(private readonly ctx: TelephonyContext) {}
  decide: (req: DecideRequest) => Promise<DecideResponse> = notYet('Decide');
}
