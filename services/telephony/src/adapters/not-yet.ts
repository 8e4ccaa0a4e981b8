import type { ConnectionRow } from '../calls/model';
import type { Adapter } from './types';

/** A placeholder adapter that refuses every request (a 400 `malformed`), while its provider is written. */
export function notYet(provider: ConnectionRow['provider']): Adapter {
  return {
    provider,
    handle: async () => ({ outcome: 'malformed', answer: { status: 400, contentType: 'text/plain', body: `${provider}: not supported yet` }, deliveryId: '', events: [] }),
    parse: () => [],
  };
}
