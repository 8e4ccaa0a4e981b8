import type { Me } from '../api';
import { useI18n } from '../i18n';
import { Link, useLocation } from '../router';
import { zoneLabel } from '../time';
import { NotificationBell } from '../features/work/Notifications';
import { LangSwitch } from './LangSwitch';

const FUNNEL_PATHS = ['/deals'];
const CONTACT_PATHS = ['/contacts', '/companies', '/client-cards', '/duplicates', '/bases', '/imports'];

export function Header({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const { t } = useI18n();
  const { path } = useLocation();
  return (
    <header className="header">
      <div className="header-inner">
        <Link to="/requests" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('header.nav')} className="header-nav">
          <Link to="/requests" aria-current={path === '/requests' ? 'page' : undefined}>
            {t('header.journal')}
          </Link>
          {me.scopes.includes('tasks:read') && (
            <Link to="/my-work" aria-current={path === '/my-work' ? 'page' : undefined} data-testid="nav-my-work">
              {t('header.myWork')}
            </Link>
          )}
          {me.scopes.includes('tasks:read') && (
            <Link to="/tasks" aria-current={path === '/tasks' ? 'page' : undefined} data-testid="nav-tasks">
              {t('header.tasks')}
            </Link>
          )}
          {me.scopes.includes('routing:write') && (
            <Link to="/settings/routing" aria-current={path === '/settings/routing' ? 'page' : undefined} data-testid="nav-routing">
              {t('header.routing')}
            </Link>
          )}
          {me.scopes.includes('contacts:read') && (
            <Link to="/contacts" aria-current={CONTACT_PATHS.some((p) => path === p || path.startsWith(`${p}/`)) ? 'page' : undefined} data-testid="nav-contacts">
              {t('header.contacts')}
            </Link>
          )}
          {me.scopes.includes('deals:read') && (
            <Link to="/deals" aria-current={FUNNEL_PATHS.some((p) => path === p || path.startsWith(`${p}/`)) ? 'page' : undefined} data-testid="nav-deals">
              {t('funnel.nav.deals')}
            </Link>
          )}
          {me.scopes.includes('pipelines:write') && (
            <Link to="/pipelines" aria-current={path === '/pipelines' || path.startsWith('/pipelines/') ? 'page' : undefined} data-testid="nav-pipelines">
              {t('funnel.nav.pipelines')}
            </Link>
          )}
          {me.scopes.includes('calls:read') && (
            <Link to="/calls" aria-current={path === '/calls' ? 'page' : undefined} data-testid="nav-calls">
              {t('telephony.calls.title')}
            </Link>
          )}
          {me.scopes.includes('telephony:admin') && (
            <Link to="/telephony/numbers" aria-current={path === '/telephony/numbers' ? 'page' : undefined} data-testid="nav-numbers">
              {t('telephony.numbers.title')}
            </Link>
          )}
          {me.scopes.includes('reports:read') && (
            <Link to="/reports" aria-current={path === '/reports' ? 'page' : undefined} data-testid="nav-reports">
              {t('header.reports')}
            </Link>
          )}
          {me.scopes.includes('identity:admin') && (
            <Link to="/settings" aria-current={path === '/settings' ? 'page' : undefined} data-testid="nav-settings">
              {t('header.settings')}
            </Link>
          )}
        </nav>
        <div className="header-user">
          <span className="user-name" data-testid="user-name">
            {me.display_name || me.email}
          </span>
          <span className="tenant" data-testid="tenant" title={me.tenant_slug}>
            <span className="visually-hidden">{t('header.tenant')}: </span>
            {me.tenant_slug}
          </span>
          <span className="tenant muted" data-testid="time-zone" title={t('header.timeZone', { zone: zoneLabel(me.time_zone) })}>
            {me.time_zone}
          </span>
          <NotificationBell />
          <LangSwitch />
          <button type="button" className="button-secondary" data-testid="logout" onClick={onLogout}>
            {t('header.logout')}
          </button>
        </div>
      </div>
    </header>
  );
}
