/**
 * Sign-in security (admins, /settings/security): the tenant's sign-in policy (PolicyPanel)
 * and the accounts with recent failed sign-in attempts or a lock — e-mail, failures, last address, last
 * failure and "locked until" in the tenant's time zone — with an Unlock button.
 */
import { useCallback, useState } from 'react';
import { client, unwrap, type Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import type { components } from '../../gen/api';
import { useI18n } from '../../i18n';
import { ListFoot, usePaged } from '../contacts/common';
import { ConfirmButton, NotAllowed, SettingsFrame } from '../settings/common';
import { PolicyPanel } from './PolicyPanel';

export type LoginLock = components['schemas']['LoginLock'];

export const locksApi = {
  list: (f: { lockedOnly: boolean; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    unwrap(client.GET('/v1/security/login-locks', { params: { query: { locked_only: f.lockedOnly || undefined, cursor: f.cursor || undefined, limit: f.limit } }, signal }), signal),
  unlock: (id: string): Promise<LoginLock> => unwrap(client.DELETE('/v1/security/login-locks/{id}', { params: { path: { id } } })),
};

export function LocksPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const admin = me.scopes.includes('identity:admin');
  if (!admin)
    return (
      <SettingsFrame me={me} title={t('security.locks.title')} testId="security-page">
        <NotAllowed />
      </SettingsFrame>
    );
  return <Locks me={me} />;
}

function Locks({ me }: { me: Me }) {
  const { t, formatDateTime } = useI18n();
  const [lockedOnly, setLockedOnly] = useState(false);
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => locksApi.list({ lockedOnly, cursor, limit: 50 }, signal), [lockedOnly]);
  const list = usePaged(fetchPage, lockedOnly ? 'locked' : 'all');
  const [rowError, setRowError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const unlock = async (l: LoginLock) => {
    setRowError(null);
    setDone(null);
    setBusy(l.id);
    try {
      const updated = await locksApi.unlock(l.id);
      list.setItems((items) => (lockedOnly ? items.filter((x) => x.id !== l.id) : items.map((x) => (x.id === l.id ? updated : x))));
      setDone(l.email);
    } catch (err) {
      setRowError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <SettingsFrame
      me={me}
      title={t('security.locks.title')}
      testId="security-page"
      actions={
        <button type="button" className="button-secondary" onClick={list.reload} data-testid="locks-refresh">
          {t('security.locks.refresh')}
        </button>
      }
    >
      <PolicyPanel me={me} />
      <p className="muted">{t('security.locks.intro')}</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label className="check">
          <input type="checkbox" checked={lockedOnly} onChange={(e) => setLockedOnly(e.target.checked)} data-testid="locks-locked-only" />
          {t('security.locks.lockedOnly')}
        </label>
      </form>
      {done && (
        <p className="alert alert-info" role="status" data-testid="lock-unlocked">
          {t('security.locks.unlocked', { email: done })}
        </p>
      )}
      {rowError !== null && <ErrorMessage error={rowError} testId="lock-row-error" />}
      <div className="table-wrap" aria-busy={list.status === 'loading'}>
        <table className="table" data-testid="locks-table">
          <caption className="visually-hidden">{t('security.locks.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('security.locks.email')}</th>
              <th scope="col">{t('security.locks.failures')}</th>
              <th scope="col">{t('security.locks.lastAddress')}</th>
              <th scope="col">{t('security.locks.lastFailure')}</th>
              <th scope="col">{t('security.locks.lockedUntil')}</th>
              <th scope="col">{t('security.locks.state')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((l) => (
              <tr key={l.id} data-testid="lock-row" data-id={l.id} data-email={l.email} data-locked={l.locked ? 'true' : 'false'}>
                <td data-label={t('security.locks.email')} className="break">
                  {l.email}
                  {!l.user_id && (
                    <>
                      {' '}
                      <span className="muted">({t('security.locks.unknownAccount')})</span>
                    </>
                  )}
                </td>
                <td data-label={t('security.locks.failures')}>{l.failures}</td>
                <td data-label={t('security.locks.lastAddress')}>{l.last_address ? <code>{l.last_address}</code> : '—'}</td>
                <td data-label={t('security.locks.lastFailure')} className="nowrap">
                  {l.last_failure_at ? <time dateTime={l.last_failure_at}>{formatDateTime(l.last_failure_at, 'medium')}</time> : '—'}
                </td>
                <td data-label={t('security.locks.lockedUntil')} className="nowrap">
                  {l.locked && l.locked_until ? <time dateTime={l.locked_until}>{formatDateTime(l.locked_until, 'medium')}</time> : <span className="muted">{t('security.locks.notLocked')}</span>}
                </td>
                <td data-label={t('security.locks.state')}>
                  {l.locked || l.failures > 0 ? (
                    <ConfirmButton
                      label={t('security.locks.unlock')}
                      confirmLabel={t('security.locks.unlockConfirm', { email: l.email })}
                      onConfirm={() => void unlock(l)}
                      disabled={busy === l.id}
                      testId="lock-unlock"
                    />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={t('security.locks.empty')} testId="locks" />
    </SettingsFrame>
  );
}
