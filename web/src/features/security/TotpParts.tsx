/**
 * What the two-factor pages share (the settings page and the login's enrolment step): the secret with its
 * QR code (drawn on a canvas: no inline script, no data: URL for the CSP to allow), the one-time display
 * of the recovery codes, and the code input.
 */
import QRCode from 'qrcode';
import { useEffect, useRef } from 'react';
import { useI18n } from '../../i18n';
import { CopyButton } from '../settings/common';
import type { TotpEnrollment } from './mfa-api';

export function TotpSecret({ enrollment }: { enrollment: TotpEnrollment }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) QRCode.toCanvas(canvas.current, enrollment.otpauth_uri, { errorCorrectionLevel: 'M', margin: 2, width: 192 }).catch(() => undefined);
  }, [enrollment.otpauth_uri]);
  // Groups of four are easier to type into an app.
  const grouped = enrollment.secret.replace(/(.{4})/g, '$1 ').trim();
  return (
    <div className="totp-secret" data-testid="totp-enrollment">
      <canvas ref={canvas} role="img" aria-label={t('security.mfa.qr')} data-testid="totp-qr" width={192} height={192} />
      <div className="field">
        <label htmlFor="totp-secret">{t('security.mfa.secret')}</label>
        <div className="inline-fields">
          <input id="totp-secret" readOnly value={grouped} data-secret={enrollment.secret} data-testid="totp-secret" spellCheck={false} onFocus={(e) => e.target.select()} />
          <CopyButton text={enrollment.secret} testId="totp-secret-copy" />
        </div>
      </div>
      <p>
        <a href={enrollment.otpauth_uri} data-testid="totp-uri">
          {t('security.mfa.openApp')}
        </a>
      </p>
    </div>
  );
}

/** Recovery codes, shown once, with copy. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="panel secret-box" role="status" data-testid="recovery-codes-box">
      <h2>{t('security.mfa.recoveryTitle')}</h2>
      <p>{t('security.mfa.recoveryOnce')}</p>
      <ol className="recovery-codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="form-actions">
        <CopyButton text={codes.join('\n')} testId="recovery-codes-copy" />
        {onDone && (
          <button type="button" className="button-primary" onClick={onDone} data-testid="recovery-codes-done">
            {t('security.mfa.recoverySaved')}
          </button>
        )}
      </div>
    </div>
  );
}

/** A one-time code input (digits, autofill from the OS where it offers it). */
export function CodeInput({ id, value, onChange, testId, error, label }: { id: string; value: string; onChange: (v: string) => void; testId: string; error?: string; label?: string }) {
  const { t } = useI18n();
  return (
    <div className="field">
      <label htmlFor={id}>{label ?? t('security.mfa.code')}</label>
      <input
        id={id}
        name="one-time-code"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9 ]*"
        maxLength={7}
        required
        value={value}
        aria-describedby={`${id}-hint`}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
      />
      <small id={`${id}-hint`} className="hint">
        {t('security.mfa.codeHint')}
      </small>
      <p className="field-error" role={error ? 'alert' : undefined}>
        {error ?? ''}
      </p>
    </div>
  );
}
