/**
 * /settings/two-factor (issue 16 §3): my two-factor sign-in — its state, turning it on (the secret and its
 * QR code, confirmed with a code; the recovery codes shown once), new recovery codes, turning it off (a
 * code or a recovery code; refused while the tenant requires it of my role).
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { SettingsFrame, violationOf, violations } from '../settings/common';
import { cleanCode, cleanRecoveryCode, mfaApi, type TotpEnrollment, type TwoFactorState } from './mfa-api';
import { CodeInput, RecoveryCodes, TotpSecret } from './TotpParts';

type Mode = 'idle' | 'regenerate' | 'disable';

export function TwoFactorPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useI18n();
  const [state, setState] = useState<TwoFactorState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [mode, setMode] = useState<Mode>('idle');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const session = me.kind === 'user';

  useEffect(() => {
    if (!session) return;
    const ctl = new AbortController();
    mfaApi.state(ctl.signal).then(
      (s) => {
        setState(s);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [session, n]);

  if (!session)
    return (
      <SettingsFrame me={me} title={t('security.mfa.title')} testId="two-factor-page">
        <p className="alert alert-info" role="status">
          {t('security.mfa.sessionOnly')}
        </p>
      </SettingsFrame>
    );

  const begin = async () => {
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      setEnrollment(await mfaApi.begin());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <SettingsFrame me={me} title={t('security.mfa.title')} testId="two-factor-page">
      <p className="muted">{t('security.mfa.intro')}</p>
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="two-factor-error" />}
      {notice && (
        <p className="alert alert-info" role="status" data-testid="two-factor-notice">
          {notice}
        </p>
      )}
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      {state && (
        <div className="panel" data-testid="two-factor-panel">
          <p>
            {t('security.mfa.state')}:{' '}
            <strong data-testid="two-factor-state" data-enabled={state.enabled ? 'true' : 'false'}>
              {state.enabled ? (state.enabled_at ? t('security.mfa.onSince', { at: formatDateTime(state.enabled_at, 'medium') }) : t('security.mfa.on')) : t('security.mfa.off')}
            </strong>
          </p>
          {state.enabled && <p data-testid="two-factor-codes-left">{t('security.mfa.codesLeft', { n: String(state.recovery_codes_left) })}</p>}
          {state.required && (
            <p className="alert alert-info" role="note" data-testid="two-factor-required">
              {t('security.mfa.required')}
            </p>
          )}
          {!state.enabled && !enrollment && (
            <button type="button" className="button-primary" disabled={busy} onClick={begin} data-testid="totp-begin">
              {t('security.mfa.begin')}
            </button>
          )}
          {state.enabled && mode === 'idle' && (
            <div className="form-actions">
              <button type="button" className="button-secondary" onClick={() => setMode('regenerate')} data-testid="recovery-regenerate">
                {t('security.mfa.regenerate')}
              </button>
              {!state.required && (
                <button type="button" className="button-danger" onClick={() => setMode('disable')} data-testid="two-factor-disable">
                  {t('security.mfa.disable')}
                </button>
              )}
            </div>
          )}
        </div>
      )}
      {state && !state.enabled && enrollment && (
        <ConfirmForm
          enrollment={enrollment}
          onRestart={begin}
          onConfirmed={(c) => {
            setEnrollment(null);
            setCodes(c);
            setNotice(t('security.mfa.enabled'));
            setN((x) => x + 1);
          }}
        />
      )}
      {state?.enabled && mode !== 'idle' && (
        <ProofForm
          mode={mode}
          onCancel={() => setMode('idle')}
          onDone={(res) => {
            setMode('idle');
            if (res.codes) setCodes(res.codes);
            else {
              setCodes(null);
              setNotice(t('security.mfa.disabled'));
            }
            setN((x) => x + 1);
          }}
        />
      )}
    </SettingsFrame>
  );
}

function ConfirmForm({ enrollment, onConfirmed, onRestart }: { enrollment: TotpEnrollment; onConfirmed: (codes: string[]) => void; onRestart: () => void }) {
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const [local, setLocal] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const c = cleanCode(code);
    if (!c) return setLocal(t('security.mfa.codeInvalid'));
    setLocal('');
    setBusy(true);
    setError(null);
    try {
      onConfirmed((await mfaApi.confirm(c)).recovery_codes);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fieldError = local || violationOf(violations(error), 'code');
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="totp-form" aria-labelledby="totp-form-title">
      <h2 id="totp-form-title">{t('security.mfa.begin')}</h2>
      <p>{t('security.mfa.scan')}</p>
      <TotpSecret enrollment={enrollment} />
      <CodeInput id="totp-code" value={code} onChange={setCode} testId="totp-code" error={fieldError} />
      {error !== null && !violationOf(violations(error), 'code') && <ErrorMessage error={error} testId="totp-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="totp-confirm">
          {t('security.mfa.confirm')}
        </button>
        <button type="button" className="button-secondary" onClick={onRestart} data-testid="totp-restart">
          {t('security.mfa.restart')}
        </button>
      </div>
    </form>
  );
}

/** A current code (new recovery codes, or turning it off) or a recovery code (turning it off only). */
function ProofForm({ mode, onCancel, onDone }: { mode: 'regenerate' | 'disable'; onCancel: () => void; onDone: (res: { codes?: string[] }) => void }) {
  const { t } = useI18n();
  const [recovery, setRecovery] = useState(false);
  const [value, setValue] = useState('');
  const [local, setLocal] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = recovery ? cleanRecoveryCode(value) : cleanCode(value);
    if (!v) return setLocal(recovery ? t('security.mfa.recoveryInvalid') : t('security.mfa.codeInvalid'));
    setLocal('');
    setBusy(true);
    setError(null);
    try {
      if (mode === 'regenerate') onDone({ codes: (await mfaApi.regenerate(v)).recovery_codes });
      else {
        await mfaApi.disable(recovery ? { recovery_code: v } : { code: v });
        onDone({});
      }
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const v = violations(error);
  const fieldError = local || violationOf(v, recovery ? 'recovery_code' : 'code');
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid={`two-factor-${mode}-form`} aria-labelledby="two-factor-proof-title">
      <h2 id="two-factor-proof-title">{mode === 'regenerate' ? t('security.mfa.regenerate') : t('security.mfa.disable')}</h2>
      <p>{mode === 'regenerate' ? t('security.mfa.regenerateHint') : t('security.mfa.disableHint')}</p>
      {recovery ? (
        <div className="field">
          <label htmlFor="two-factor-recovery">{t('security.mfa.recoveryCode')}</label>
          <input id="two-factor-recovery" autoComplete="off" spellCheck={false} maxLength={20} value={value} onChange={(e) => setValue(e.target.value)} data-testid="two-factor-proof" />
          <p className="field-error" role={fieldError ? 'alert' : undefined}>
            {fieldError ?? ''}
          </p>
        </div>
      ) : (
        <CodeInput id="two-factor-code" value={value} onChange={setValue} testId="two-factor-proof" error={fieldError} />
      )}
      {error !== null && !fieldError && <ErrorMessage error={error} testId="two-factor-proof-error" />}
      <div className="form-actions">
        <button type="submit" className={mode === 'disable' ? 'button-danger' : 'button-primary'} disabled={busy} data-testid="two-factor-proof-submit">
          {t('security.mfa.confirm')}
        </button>
        {mode === 'disable' && (
          <button
            type="button"
            className="button-link"
            onClick={() => {
              setRecovery((r) => !r);
              setValue('');
              setLocal('');
            }}
            data-testid="two-factor-use-recovery"
          >
            {recovery ? t('security.mfa.useCode') : t('security.mfa.useRecovery')}
          </button>
        )}
        <button type="button" className="button-secondary" onClick={onCancel} data-testid="two-factor-proof-cancel">
          {t('security.mfa.cancel')}
        </button>
      </div>
    </form>
  );
}
