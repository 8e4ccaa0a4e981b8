/** Team settings pages under /settings/… (null: not one of them). */
import type { ReactElement } from 'react';
import type { Me } from '../../api';

export function settingsPage(_path: string, _me: Me): ReactElement | null {
  return null;
}
