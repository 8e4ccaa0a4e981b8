/** The funnel's pages by path (null: not one of them): the board, a deal, the pipelines and their editor. */
import type { ReactElement } from 'react';
import type { Me } from '../../api';
import { matchPath } from '../../paths';
import { BoardPage } from './BoardPage';
import { DealPage } from './DealPage';
import { PipelineEditor } from './PipelineEditor';
import { PipelinesPage } from './PipelinesPage';

export function funnelPage(path: string, me: Me): ReactElement | null {
  if (path === '/pipelines') return <PipelinesPage me={me} />;
  if (path === '/pipelines/new') return <PipelineEditor key="new" me={me} />;
  const pipeline = matchPath('/pipelines/:id', path);
  if (pipeline) return <PipelineEditor key={pipeline.id} id={pipeline.id} me={me} />;
  if (path === '/deals') return <BoardPage />;
  const deal = matchPath('/deals/:id', path);
  if (deal) return <DealPage key={deal.id} id={deal.id} />;
  return null;
}
