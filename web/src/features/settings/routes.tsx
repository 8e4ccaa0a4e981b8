/** Team settings pages under /settings/… (null: not one of them); the public invite page is `invitePage`. */
import type { ReactElement } from 'react';
import type { Me } from '../../api';
import { matchPath } from '../../paths';
import { ApiKeysPage } from './ApiKeysPage';
import { AuditPage } from './AuditPage';
import { DepartmentPage, DepartmentsPage } from './DepartmentsPage';
import { FormsPage } from './FormsPage';
import { InvitePage } from './InvitePage';
import { ProjectsPage } from './ProjectsPage';
import { ShiftsPage } from './ShiftsPage';
import { TeamPage } from './TeamPage';

export function settingsPage(path: string, me: Me): ReactElement | null {
  if (path === '/settings/team') return <TeamPage me={me} />;
  if (path === '/settings/departments') return <DepartmentsPage me={me} />;
  if (path === '/settings/projects') return <ProjectsPage me={me} />;
  if (path === '/settings/shifts') return <ShiftsPage me={me} />;
  if (path === '/settings/api-keys') return <ApiKeysPage me={me} />;
  if (path === '/settings/forms') return <FormsPage me={me} />;
  if (path === '/settings/audit') return <AuditPage me={me} />;
  const m = matchPath('/settings/departments/:id', path);
  if (m) return <DepartmentPage key={m.id} me={me} id={m.id} />;
  return null;
}

/** `/invite/<token>`, shown logged in or not (null: not an invite path). */
export function invitePage(path: string): ReactElement | null {
  const m = matchPath('/invite/:token', path);
  return m ? <InvitePage key={m.token} token={m.token} /> : null;
}
