/** Telephony's pages by path (null: not one of them): calls and missed calls, numbers and pools, connections. */
import type { ReactElement } from 'react';
import type { Me } from '../../api';
import { CallsPage } from './CallsPage';
import { ConnectionsPage } from './ConnectionsPage';
import { NumbersPage } from './NumbersPage';

export function telephonyPage(path: string, me: Me): ReactElement | null {
  if (path === '/calls') return <CallsPage me={me} />;
  if (path === '/telephony/numbers') return <NumbersPage me={me} />;
  if (path === '/telephony/connections') return <ConnectionsPage me={me} />;
  return null;
}
