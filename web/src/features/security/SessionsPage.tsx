/**
 * My sessions (issue 16 §2), for every signed-in user: each open session with its device (browser and
 * system from the User-Agent), address, sign-in and last activity in the tenant's zone, "this device"
 * marked; sign out one, everywhere else, or everywhere (then the login page).
 * Test ids are shared with the two-factor browser test (contract.md).
 */
import { useEffect, useState } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { SettingsFrame } from '../settings/common';
import { deviceOf } from './device';
import { sessionsApi, type SessionInfo } from './sessions-api';

export function SessionsPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useI18n();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [n, setN] = useState(0);
  const isUser = me.kind === 'user';

  useEffect(() => {
    if (!isUser) return;
    const ctl = new AbortController();
    sessionsApi.listMine(ctl.signal).then(
      (list) => {
        setSessions(list);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [isUser, n]);

  if (!isUser)
    return (
      <SettingsFrame me={me} title={t('security.sessions.title')} testId="sessions-page">
        <p className="muted">{t('security.sessions.apiKey')}</p>
      </SettingsFrame>
    );

  const act = async (call: () => Promise<string>) => {
    setBusy(true);
    setActionError(null);
    setNotice('');
    try {
      setNotice(await call());
      setN((x) => x + 1);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const endOne = (s: SessionInfo) =>
    act(async () => {
      await sessionsApi.endMine(s.id);
      setSessions((list) => (list ?? []).filter((x) => x.id !== s.id));
      return t('security.sessions.ended');
    });
  const endOthers = () => act(async () => t('security.sessions.endedOthers', { n: await sessionsApi.endMineAll(true) }));
  const endAll = async () => {
    setBusy(true);
    setActionError(null);
    try {
      await sessionsApi.endMineAll(false);
      // This browser's session ended too: a fresh load shows the login page.
      window.location.assign('/login');
    } catch (err) {
      setActionError(err);
      setBusy(false);
    }
  };

  const others = (sessions ?? []).filter((s) => !s.current).length;
  return (
    <SettingsFrame
      me={me}
      title={t('security.sessions.title')}
      testId="sessions-page"
      actions={
        <div className="inline-fields">
          <button type="button" className="button-secondary" onClick={() => setN((x) => x + 1)} data-testid="sessions-refresh">
            {t('security.sessions.refresh')}
          </button>
          <button type="button" className="button-secondary" disabled={busy || others === 0} onClick={endOthers} data-testid="sessions-end-others">
            {t('security.sessions.endOthers')}
          </button>
          <button type="button" className="button-danger" disabled={busy} onClick={endAll} data-testid="sessions-end-all">
            {t('security.sessions.endAll')}
          </button>
        </div>
      }
    >
      <p className="muted">{t('security.sessions.intro')}</p>
      {notice && (
        <p className="muted" role="status" data-testid="sessions-notice">
          {notice}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="sessions-error" />}
      {actionError !== null && <ErrorMessage error={actionError} testId="sessions-action-error" />}
      <div className="table-wrap">
        <table className="table" data-testid="sessions-table">
          <caption className="visually-hidden">{t('security.sessions.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('security.sessions.device')}</th>
              <th scope="col">{t('security.sessions.address')}</th>
              <th scope="col">{t('security.sessions.opened')}</th>
              <th scope="col">{t('security.sessions.lastSeen')}</th>
              <th scope="col">{t('security.sessions.endsAt')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('security.sessions.end')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(sessions ?? []).map((s) => {
              const d = deviceOf(s.user_agent);
              const device = d.browser && d.os ? t('security.sessions.on', { browser: d.browser, os: d.os }) : d.browser || d.os || t('security.sessions.unknownDevice');
              return (
                <tr key={s.id} data-testid="session-row" data-session-id={s.id} data-current={s.current ? 'true' : undefined}>
                  <td data-label={t('security.sessions.device')}>
                    <strong title={s.user_agent || undefined} data-testid="session-device">
                      {device}
                    </strong>{' '}
                    {s.current && (
                      <span className="badge user-active" data-testid="session-current">
                        {t('security.sessions.thisDevice')}
                      </span>
                    )}
                    {s.second_factor && <div className="muted">{t('security.sessions.secondFactor')}</div>}
                  </td>
                  <td data-label={t('security.sessions.address')} data-testid="session-address">
                    {s.address ? <code>{s.address}</code> : <span className="muted">{t('security.sessions.unknownAddress')}</span>}
                  </td>
                  <td data-label={t('security.sessions.opened')} className="nowrap">
                    {formatDateTime(s.created_at, 'short')}
                  </td>
                  <td data-label={t('security.sessions.lastSeen')} className="nowrap" data-testid="session-last-seen">
                    {formatDateTime(s.last_seen_at, 'short')}
                  </td>
                  <td data-label={t('security.sessions.endsAt')} className="nowrap">
                    {formatDateTime(s.idle_expires_at, 'short')}
                  </td>
                  <td>
                    {!s.current && (
                      <button type="button" className="button-secondary" disabled={busy} onClick={() => endOne(s)} data-testid="session-end">
                        {t('security.sessions.end')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {sessions !== null && others === 0 && <p className="muted">{t('security.sessions.noOthers')}</p>}
    </SettingsFrame>
  );
}
