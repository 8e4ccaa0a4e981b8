/** The security settings pages under /settings/… (null: not one of them). */
import type { ReactElement } from 'react';
import type { Me } from '../../api';
import { LocksPage } from './LocksPage';
import { SessionsPage } from './SessionsPage';
import { TwoFactorPage } from './TwoFactorPage';

export function securityPage(path: string, me: Me): ReactElement | null {
  if (path === '/settings/security') return <LocksPage me={me} />;
  if (path === '/settings/sessions') return <SessionsPage me={me} />;
  if (path === '/settings/two-factor') return <TwoFactorPage me={me} />;
  return null;
}
