import type { Built } from '@crm/service';
import type { TelephonyContext } from '../context';

/**
 * The calls area: the job runner (webhook processing → calls/ingest.ts, recording downloads) as a
 * worker, so it is migrated and running before gRPC serves. Being written by the calls area.
 */
export function callsParts(ctx: TelephonyContext): Partial<Built> {
  void ctx;
  return {};
}
