/** Working the request: my work, tasks, routing rules (null: not one of these pages). */
import type { ReactElement } from 'react';
import type { Me } from '../../api';

export function workPage(_path: string, _me: Me): ReactElement | null {
  return null;
}
