/** The funnel's pages by path (null: not one of them): the board, a deal, the pipelines and their editor. */
import type { ReactElement } from 'react';
import type { Me } from '../../api';

export function funnelPage(_path: string, _me: Me): ReactElement | null {
  return null;
}
