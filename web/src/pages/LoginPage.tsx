import { useState, type FormEvent } from 'react';
import { api, ApiError, type LoginChallenge, type Me } from '../api';
import { errorText } from '../components/ErrorMessage';
import { LangSwitch } from '../components/LangSwitch';
import { cleanCode, cleanRecoveryCode, mfaApi, type SignedIn, type TotpEnrollment } from '../features/security/mfa-api';
import { CodeInput, RecoveryCodes, TotpSecret } from '../features/security/TotpParts';
import { useI18n, type Translate } from '../i18n';

const LAST_TENANT = 'crm.lastTenant';
/** Wrong codes a challenge takes (identity's MAX_CHALLENGE_ATTEMPTS); then the login starts again. */
const CHALLENGE_ATTEMPTS = 5;

function lastTenant(): string {
  try {
    return localStorage.getItem(LAST_TENANT) ?? '';
  } catch {
    return '';
  }
}

function remember(me: Me): void {
  try {
    localStorage.setItem(LAST_TENANT, me.tenant_slug);
  } catch {
    // Not remembered: the user types it next time.
  }
}

/** The Me part of the second step's answer (it also carries the recovery codes). */
function meOf(s: SignedIn): Me {
  const { recovery_codes: _codes, ...me } = s;
  void _codes;
  return me;
}

/** A refusal of the login throttle says until when (`retry_at`, and `reason` too_soon / …_locked). */
function loginErrorText(err: unknown, t: Translate, formatDateTime: (iso: string, style?: 'short' | 'medium') => string, wrong: string): string {
  if (err instanceof ApiError && err.status === 401) return wrong;
  if (err instanceof ApiError && err.status === 429) {
    const p = err.problem as { retry_at?: unknown; reason?: unknown };
    if (typeof p.retry_at === 'string' && !Number.isNaN(Date.parse(p.retry_at))) {
      const time = formatDateTime(p.retry_at, 'medium');
      return p.reason === 'too_soon' ? t('security.locks.loginTooSoon', { time }) : t('security.locks.loginLocked', { time });
    }
  }
  return errorText(err, t);
}

type Step =
  | { kind: 'password' }
  | { kind: 'code'; challenge: string; expiresAt: string; recovery: boolean; wrong: number }
  | { kind: 'enroll'; challenge: string; expiresAt: string; enrollment: TotpEnrollment | null; wrong: number }
  | { kind: 'codes'; me: Me; codes: string[] };

export function LoginPage({ onLoggedIn }: { onLoggedIn: (me: Me) => void }) {
  const { t, formatDateTime } = useI18n();
  const [tenant, setTenant] = useState(lastTenant);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [code, setCode] = useState('');
  const [local, setLocal] = useState('');
  const [expired, setExpired] = useState(false);

  const done = (me: Me) => {
    remember(me);
    onLoggedIn(me);
  };

  const restart = (why: 'expired' | 'back') => {
    setStep({ kind: 'password' });
    setCode('');
    setLocal('');
    setError(null);
    setPassword('');
    setExpired(why === 'expired');
    setBusy(false);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setExpired(false);
    try {
      const res = await api.login(tenant.trim().toLowerCase(), email.trim(), password);
      if ('challenge' in res) {
        const c = res as LoginChallenge;
        setCode('');
        setLocal('');
        setStep(c.second_factor === 'enroll' ? { kind: 'enroll', challenge: c.challenge, expiresAt: c.expires_at, enrollment: null, wrong: 0 } : { kind: 'code', challenge: c.challenge, expiresAt: c.expires_at, recovery: false, wrong: 0 });
        setBusy(false);
        return;
      }
      done(res as Me);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const showKey = async () => {
    if (step.kind !== 'enroll') return;
    setBusy(true);
    setError(null);
    try {
      const enrollment = await mfaApi.beginLoginEnrollment(step.challenge);
      setStep({ ...step, enrollment });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) restart('expired');
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: FormEvent) => {
    e.preventDefault();
    if (step.kind !== 'code' && step.kind !== 'enroll') return;
    const recovery = step.kind === 'code' && step.recovery;
    const value = recovery ? cleanRecoveryCode(code) : cleanCode(code);
    if (!value) {
      setLocal(recovery ? t('security.mfa.recoveryInvalid') : t('security.mfa.codeInvalid'));
      return;
    }
    if (Date.parse(step.expiresAt) <= Date.now()) return restart('expired');
    setLocal('');
    setBusy(true);
    setError(null);
    try {
      const s = await mfaApi.secondFactor(step.challenge, recovery ? { recovery_code: value } : { code: value });
      if (s.recovery_codes.length) {
        setStep({ kind: 'codes', me: meOf(s), codes: s.recovery_codes });
        setBusy(false);
        return;
      }
      done(meOf(s));
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) {
        const wrong = step.wrong + 1;
        if (wrong >= CHALLENGE_ATTEMPTS) return restart('expired');
        setStep({ ...step, wrong });
        setCode('');
      }
      setError(err);
    }
  };

  const message = error ? loginErrorText(error, t, formatDateTime, step.kind === 'password' ? t('login.badCredentials') : t('security.mfa.loginWrongCode')) : expired ? t('security.mfa.loginExpired') : '';
  const alert = message && (
    <p className="alert" role="alert" data-testid="login-error">
      {message}
    </p>
  );

  let card;
  if (step.kind === 'codes') {
    card = (
      <div className="login-card" data-testid="login-recovery-codes">
        <p className="brand">{t('app.name')}</p>
        <h1 id="login-title">{t('security.mfa.enabled')}</h1>
        <RecoveryCodes codes={step.codes} />
        <button type="button" className="button-primary" onClick={() => done(step.me)} data-testid="login-continue">
          {t('security.mfa.loginContinue')}
        </button>
      </div>
    );
  } else if (step.kind === 'code' || step.kind === 'enroll') {
    const recovery = step.kind === 'code' && step.recovery;
    const needsKey = step.kind === 'enroll' && !step.enrollment;
    card = (
      <form className="login-card" onSubmit={submitCode} aria-labelledby="login-title" data-testid="login-second-factor" noValidate>
        <p className="brand">{t('app.name')}</p>
        <h1 id="login-title">{step.kind === 'enroll' ? t('security.mfa.loginEnrollTitle') : t('security.mfa.loginCodeTitle')}</h1>
        <p>{step.kind === 'enroll' ? t('security.mfa.loginEnrollIntro') : recovery ? t('security.mfa.loginRecoveryIntro') : t('security.mfa.loginCodeIntro')}</p>
        {alert}
        {step.kind === 'enroll' && step.enrollment && (
          <>
            <p className="hint">{t('security.mfa.scan')}</p>
            <TotpSecret enrollment={step.enrollment} />
          </>
        )}
        {needsKey ? (
          <button type="button" className="button-primary" disabled={busy} onClick={showKey} data-testid="login-enroll-start">
            {t('security.mfa.loginStart')}
          </button>
        ) : recovery ? (
          <div className="field">
            <label htmlFor="login-recovery">{t('security.mfa.recoveryCode')}</label>
            <input
              id="login-recovery"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              maxLength={20}
              required
              value={code}
              aria-describedby="login-recovery-hint"
              onChange={(e) => setCode(e.target.value)}
              data-testid="login-code"
            />
            <small id="login-recovery-hint" className="hint">
              {t('security.mfa.recoveryHint')}
            </small>
            <p className="field-error" role={local ? 'alert' : undefined}>
              {local}
            </p>
          </div>
        ) : (
          <CodeInput id="login-code" value={code} onChange={setCode} testId="login-code" error={local || undefined} />
        )}
        {!needsKey && (
          <button type="submit" className="button-primary" disabled={busy} data-testid="login-code-submit">
            {busy ? t('login.busy') : t('security.mfa.confirm')}
          </button>
        )}
        <div className="form-actions">
          {step.kind === 'code' && (
            <button
              type="button"
              className="button-link"
              onClick={() => {
                setStep({ ...step, recovery: !step.recovery });
                setCode('');
                setLocal('');
                setError(null);
              }}
              data-testid="login-use-recovery"
            >
              {recovery ? t('security.mfa.useCode') : t('security.mfa.useRecovery')}
            </button>
          )}
          <button type="button" className="button-link" onClick={() => restart('back')} data-testid="login-restart">
            {t('security.mfa.backToLogin')}
          </button>
        </div>
      </form>
    );
  } else {
    card = (
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title" data-testid="login-form">
        <p className="brand">{t('app.name')}</p>
        <h1 id="login-title">{t('login.title')}</h1>
        {alert}
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
    );
  }

  return (
    <main id="main" className="login">
      <div className="login-lang">
        <LangSwitch />
      </div>
      {card}
    </main>
  );
}
