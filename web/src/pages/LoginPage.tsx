import { useState, type FormEvent } from 'react';
import { api, ApiError, type Me } from '../api';
import { errorText } from '../components/ErrorMessage';
import { LangSwitch } from '../components/LangSwitch';
import { useI18n } from '../i18n';

const LAST_TENANT = 'crm.lastTenant';

function lastTenant(): string {
  try {
    return localStorage.getItem(LAST_TENANT) ?? '';
  } catch {
    return '';
  }
}

export function LoginPage({ onLoggedIn }: { onLoggedIn: (me: Me) => void }) {
  const { t } = useI18n();
  const [tenant, setTenant] = useState(lastTenant);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api.login(tenant.trim().toLowerCase(), email.trim(), password);
      try {
        localStorage.setItem(LAST_TENANT, me.tenant_slug);
      } catch {
        // Not remembered: the user types it next time.
      }
      onLoggedIn(me);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  // 401 is the one answer for an unknown tenant, an unknown e-mail and a wrong password alike.
  const message = error instanceof ApiError && error.status === 401 ? t('login.badCredentials') : error ? errorText(error, t) : '';

  return (
    <main id="main" className="login">
      <div className="login-lang">
        <LangSwitch />
      </div>
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title" data-testid="login-form">
        <p className="brand">{t('app.name')}</p>
        <h1 id="login-title">{t('login.title')}</h1>
        {message && (
          <p className="alert" role="alert" data-testid="login-error">
            {message}
          </p>
        )}
        <div className="field">
          <label htmlFor="login-tenant">{t('login.tenant')}</label>
          <input
            id="login-tenant"
            name="tenant"
            autoComplete="organization"
            autoCapitalize="none"
            spellCheck={false}
            required
            maxLength={63}
            value={tenant}
            aria-describedby="login-tenant-hint"
            onChange={(e) => setTenant(e.target.value)}
          />
          <small id="login-tenant-hint" className="hint">
            {t('login.tenantHint')}
          </small>
        </div>
        <div className="field">
          <label htmlFor="login-email">{t('login.email')}</label>
          <input id="login-email" name="email" type="email" autoComplete="username" required maxLength={320} value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="login-password">{t('login.password')}</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={200}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="button-primary" disabled={busy} data-testid="login-submit">
          {busy ? t('login.busy') : t('login.submit')}
        </button>
      </form>
    </main>
  );
}
