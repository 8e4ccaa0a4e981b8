/**
 * The shell: who is logged in (`GET /v1/me`), the live feed while logged in, the header and the routes
 * `/login`, `/requests`, `/requests/:id`, `/reports`, `/settings`, and the contacts section (`/contacts`,
 * `/contacts/:id`, `/companies`, `/companies/:id`, `/client-cards/:id`, `/duplicates`, `/bases`, `/imports`,
 * `/imports/:id`; features/contacts).
 */
import { useCallback, useEffect, useState } from 'react';
import { api, setUnauthorizedHandler, type Me } from './api';
import { Header } from './components/Header';
import { contactsPage } from './features/contacts/routes';
import { funnelPage } from './features/funnel/routes';
import { invitePage, settingsPage } from './features/settings/routes';
import { securityPage } from './features/security/routes';
import { workPage } from './features/work/routes';
import { CallDock } from './features/telephony/CallDock';
import { telephonyPage } from './features/telephony/routes';
import { useI18n } from './i18n';
import { LiveFeed, LiveProvider } from './live';
import { JournalPage } from './pages/JournalPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { ReportPage } from './pages/ReportPage';
import { RequestPage } from './pages/RequestPage';
import { SettingsPage } from './pages/SettingsPage';
import { matchPath, navigate, useLocation } from './router';

type Session = { state: 'loading' } | { state: 'anonymous' } | { state: 'user'; me: Me };

/** Only a path inside the app is followed after login (never another origin). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/requests';
}

export function App() {
  const { t, applyTenantLocale, applyTenantTimeZone } = useI18n();
  const location = useLocation();
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [feed, setFeed] = useState<LiveFeed | null>(null);

  const loggedIn = useCallback(
    (me: Me) => {
      applyTenantLocale(me.locale);
      applyTenantTimeZone(me.time_zone);
      setSession({ state: 'user', me });
    },
    [applyTenantLocale, applyTenantTimeZone],
  );

  useEffect(() => {
    let cancelled = false;
    api.me().then(
      (me) => !cancelled && loggedIn(me),
      () => !cancelled && setSession({ state: 'anonymous' }),
    );
    return () => {
      cancelled = true;
    };
  }, [loggedIn]);

  // Any 401 from the API means the session is over: back to the login page.
  useEffect(() => {
    setUnauthorizedHandler(() => setSession({ state: 'anonymous' }));
    return () => setUnauthorizedHandler(undefined);
  }, []);

  // One live connection while logged in.
  const userId = session.state === 'user' ? session.me.subject_id : null;
  useEffect(() => {
    if (!userId) return;
    const f = new LiveFeed();
    f.start();
    setFeed(f);
    return () => {
      f.stop();
      setFeed(null);
    };
  }, [userId]);

  // Route guards: anonymous users see the login page; logged-in users skip it.
  const onLogin = location.path === '/login';
  // `/invite/<token>` (accepting an invite) is public: shown logged in or not.
  const invite = invitePage(location.path);
  const onInvite = invite !== null;
  useEffect(() => {
    if (session.state === 'anonymous' && !onLogin && !onInvite) {
      const here = location.path + (location.query ? `?${location.query}` : '');
      navigate(location.path === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, { replace: true });
    } else if (session.state === 'user' && (onLogin || location.path === '/')) {
      navigate(onLogin ? safeNext(new URLSearchParams(location.query).get('next')) : '/requests', { replace: true });
    }
  }, [session.state, onLogin, onInvite, location.path, location.query]);

  useEffect(() => {
    document.title = t('app.name');
  }, [t]);

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      // Already logged out or offline: the cookie is useless either way; show the login page.
    }
    setSession({ state: 'anonymous' });
    navigate('/login');
  };

  if (session.state === 'loading') {
    return (
      <p className="page-status" role="status">
        {t('app.loading')}
      </p>
    );
  }

  if (invite) return invite;

  if (session.state === 'anonymous') {
    return onLogin ? <LoginPage onLoggedIn={loggedIn} /> : null;
  }

  const me = session.me;
  let page = <NotFoundPage />;
  const request = matchPath('/requests/:id', location.path);
  const contacts = contactsPage(location.path);
  const funnel = funnelPage(location.path, me);
  const work = workPage(location.path, me);
  const telephony = telephonyPage(location.path, me);
  const settings = settingsPage(location.path, me) ?? securityPage(location.path, me);
  if (location.path === '/requests') page = <JournalPage me={me} />;
  else if (request) page = <RequestPage key={request.id} id={request.id} me={me} />;
  else if (location.path === '/reports') page = <ReportPage />;
  else if (location.path === '/settings') page = <SettingsPage me={me} onTimeZoneChanged={(zone) => setSession({ state: 'user', me: { ...me, time_zone: zone } })} />;
  else if (contacts) page = contacts;
  else if (funnel) page = funnel;
  else if (work) page = work;
  else if (telephony) page = telephony;
  else if (settings) page = settings;
  else if (onLogin || location.path === '/') page = <></>;

  return (
    <LiveProvider feed={feed}>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <Header me={me} onLogout={logout} />
      <main id="main" className="main">
        {page}
      </main>
      <CallDock me={me} />
    </LiveProvider>
  );
}
