import type { Built } from '@crm/service';
import type { TelephonyContext } from '../context';

/** The webhooks area's consumer of the gateway's fallback topic (crm.telephony.webhook.v1). Being written. */
export function webhooksParts(ctx: TelephonyContext): Partial<Built> {
  void ctx;
  return {};
}
