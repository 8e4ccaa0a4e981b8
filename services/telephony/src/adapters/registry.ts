import type { ConnectionRow } from '../calls/model';
import { genericAdapter } from './generic';
import { kamailioAdapter } from './kamailio';
import { mangoAdapter } from './mango';
import type { Adapter } from './types';
import { twilioAdapter } from './twilio';
import { zadarmaAdapter } from './zadarma';

/** Every provider's adapter, by the connection's provider. */
export const ADAPTERS: Readonly<Record<ConnectionRow['provider'], Adapter>> = {
  generic: genericAdapter,
  mango: mangoAdapter,
  zadarma: zadarmaAdapter,
  twilio: twilioAdapter,
  kamailio: kamailioAdapter,
};
