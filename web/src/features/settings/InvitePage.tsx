/**
 * `/invite/<token>`: the invitee sets a password (twice) and the invite is accepted; the company code is
 * shown and remembered for the login page. Works logged out (App renders it for anonymous users too).
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { LangSwitch } from '../../components/LangSwitch';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { teamApi } from './api';

export function InvitePage({ token }: { token: string }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [local, setLocal] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ slug: string; email: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (password.length < 8 || password.length > 200) return setLocal(t('team.inviteAccept.length'));
    if (password !== repeat) return setLocal(t('team.inviteAccept.mismatch'));
    setLocal('');
    setBusy(true);
    try {
      const res = await teamApi.acceptInvite(token, password);
      const slug = res.tenant_slug ?? '';
      // The login page fills in the company code it remembers.
      try {
        if (slug) localStorage.setItem('crm.lastTenant', slug);
      } catch {
        // Not remembered: the page shows the code to type.
      }
      setDone({ slug, email: res.user?.email ?? '' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login">
      <div className="login-lang">
        <LangSwitch />
      </div>
      <div className="login-card" data-testid="invite-page">
        <p className="brand">{t('app.name')}</p>
        <h1>{t('team.inviteAccept.title')}</h1>
        {done ? (
          <div role="status" data-testid="invite-accepted">
            <p>{t('team.inviteAccept.done')}</p>
            {done.slug && (
              <p>
                {t('login.tenant')}: <strong data-testid="invite-tenant">{done.slug}</strong>
              </p>
            )}
            <Link to="/login" className="button-primary button-link" data-testid="invite-login">
              {t('login.submit')}
            </Link>
          </div>
        ) : (
          <form onSubmit={submit} noValidate>
            <p className="hint">{t('team.inviteAccept.hint')}</p>
            <div className="field">
              <label htmlFor="invite-password">{t('team.inviteAccept.password')}</label>
              <input id="invite-password" type="password" autoComplete="new-password" value={password} maxLength={200} onChange={(e) => setPassword(e.target.value)} data-testid="invite-password" />
            </div>
            <div className="field">
              <label htmlFor="invite-repeat">{t('team.inviteAccept.repeat')}</label>
              <input id="invite-repeat" type="password" autoComplete="new-password" value={repeat} maxLength={200} onChange={(e) => setRepeat(e.target.value)} data-testid="invite-repeat" />
            </div>
            {local && (
              <p className="field-error" role="alert" data-testid="invite-local-error">
                {local}
              </p>
            )}
            {error !== null &&
              (error instanceof ApiError && error.status === 404 ? (
                <p className="alert" role="alert" data-testid="invite-error">
                  {t('team.inviteAccept.invalid')}
                </p>
              ) : (
                <ErrorMessage error={error} testId="invite-error" />
              ))}
            <button type="submit" className="button-primary" disabled={busy} data-testid="invite-accept">
              {busy ? t('team.saving') : t('team.inviteAccept.submit')}
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
