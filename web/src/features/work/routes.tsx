/** Working the request: my work, tasks, routing rules (null: not one of these pages). */
import type { ReactElement } from 'react';
import type { Me } from '../../api';
import { MyWorkPage } from './MyWorkPage';
import { RoutingPage } from './RoutingPage';
import { TasksPage } from './TasksPage';

export function workPage(path: string, me: Me): ReactElement | null {
  if (path === '/my-work') return <MyWorkPage me={me} />;
  if (path === '/tasks') return <TasksPage />;
  if (path === '/settings/routing') return <RoutingPage me={me} />;
  return null;
}
